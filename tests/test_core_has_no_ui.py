"""The core library and the lab import no Textual, so they work without a terminal UI."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import importlib, pkgutil, sys
import workshop_tui.core, workshop_tui.lab
for package in (workshop_tui.core, workshop_tui.lab):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)
loaded = sorted(name for name in sys.modules if name == "textual" or name.startswith("textual."))
print(",".join(loaded))
"""


def test_core_and_lab_import_no_textual() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_cli_help_imports_no_textual() -> None:
    script = (
        "import sys\nfrom workshop_tui.cli import build_parser\nbuild_parser()\n"
        "print(any(name.startswith(('textual', 'paramiko')) for name in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
