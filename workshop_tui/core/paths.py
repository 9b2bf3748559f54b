"""Where workshop-tui keeps its own files on the attendee's machine."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

DATA_DIR_VARIABLE = "WORKSHOP_TUI_DATA_DIR"


def data_dir() -> Path:
    """Return the directory for trusted host keys and saved progress.

    ``WORKSHOP_TUI_DATA_DIR`` overrides the platform default, so tests and a second
    practice run can keep their state apart from the attendee's real one.
    """
    override = os.environ.get(DATA_DIR_VARIABLE)
    if override:
        return Path(override)
    return platformdirs.user_data_path("workshop-tui", appauthor=False)


def known_hosts_file() -> Path:
    """Return the file of host keys trusted on first use (OpenSSH known_hosts format)."""
    return data_dir() / "known_hosts"


def progress_file() -> Path:
    """Return the file where the attendee's lesson progress is saved."""
    return data_dir() / "progress.json"
