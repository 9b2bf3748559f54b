"""The command line: argument parsing and `lessons check`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from workshop_tui.cli import main, parse_target, parse_variables
from workshop_tui.core.errors import WorkshopError

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("learner@10.0.0.5", ("learner", "10.0.0.5", 22)),
        ("learner@vps.example.org:2222", ("learner", "vps.example.org", 2222)),
        ("root@[2001:db8::1]:22", ("root", "2001:db8::1", 22)),
        ("root@2001:db8::1", ("root", "2001:db8::1", 22)),
        ("first.last@host", ("first.last", "host", 22)),
    ],
)
def test_parse_target(text: str, expected: tuple[str, str, int]) -> None:
    assert parse_target(text) == expected


@pytest.mark.parametrize("text", ["host", "@host", "user@", "user@host:0", "user@host:http"])
def test_parse_target_invalid(text: str) -> None:
    with pytest.raises(WorkshopError):
        parse_target(text)


def test_parse_variables() -> None:
    assert parse_variables(["domain=example.org", "x=a=b"]) == {
        "domain": "example.org",
        "x": "a=b",
    }
    with pytest.raises(WorkshopError, match="NAME=VALUE"):
        parse_variables(["domain"])


def test_lessons_check_shipped(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lessons", "check", str(REPOSITORY / "lessons")]) == 0
    assert "all valid" in capsys.readouterr().out


def test_lessons_check_broken(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.md"
    broken.write_text("---\nid: b\ntitle: B\nsummary: S\n---\n\n## Step\n\n```check nope\n```\n")
    assert main(["lessons", "check", str(broken)]) == 1
    captured = capsys.readouterr()
    assert f"{broken}:9: unknown check type 'nope'" in captured.out
    assert "1 problem found" in captured.err


def test_bad_login_is_a_message_not_a_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "workshop_tui", "connect", "no-at-sign"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "invalid login 'no-at-sign'" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_variable_warns(capsys: pytest.CaptureFixture[str]) -> None:
    from workshop_tui.cli import _warn_about_unknown_variables
    from workshop_tui.core.lessons import load_catalog

    catalog = load_catalog([REPOSITORY / "lessons"])
    _warn_about_unknown_variables({"domain": "example.org", "nosuch": "1"}, catalog)
    error = capsys.readouterr().err
    assert "no lesson uses the variable 'nosuch'" in error
    assert "'domain'" not in error
