"""The attendee's progress as a file on their own VPS, for the board and a second laptop.

The attendee app writes ``~/.workshop-tui/progress.json`` in the login user's home
directory; docs/progress-file.md describes its fields. The file never contains a
password. Decoding is strict about types, so a board never shows a half-understood
file, and lenient about keys it does not know, so an older board reads a newer
writer's file of the same format.
"""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast, get_args

from workshop_tui import __version__
from workshop_tui.core.errors import RemoteError
from workshop_tui.core.progress import LessonProgress, RunRecord, ServerProgress, StepState
from workshop_tui.core.remote import Connection

SHARED_PROGRESS_FILE = ".workshop-tui/progress.json"
"""Path of the file, relative to the login user's home directory."""

SHARED_FORMAT_VERSION = 1
"""The ``format`` that this version writes; a file with a higher one is rejected."""

MAX_SHARED_PROGRESS_BYTES = 1024 * 1024
"""Bytes of the file that the read script prints at most. A longer file is cut there,
so it fails to decode, because a real file stays far below this size."""

WRITE_TIMEOUT_SECONDS = 15.0

_PATH = '"$HOME"/' + shlex.quote(SHARED_PROGRESS_FILE)
_DIRECTORY, _, _NAME = SHARED_PROGRESS_FILE.rpartition("/")

READ_SHARED_PROGRESS_SCRIPT = (
    f'f={_PATH}; if [ -f "$f" ]; then head -c {MAX_SHARED_PROGRESS_BYTES} -- "$f"; fi; exit 0'
)
"""Shell script that prints the file if it exists, nothing otherwise, and exits with 0."""

WRITE_SHARED_PROGRESS_SCRIPT = f"""\
umask 077
d="$HOME"/{shlex.quote(_DIRECTORY)}
mkdir -p -- "$d" || exit 1
t=$(mktemp "$d"/{shlex.quote("." + _NAME)}.XXXXXX) || exit 1
if cat >"$t" && mv -f -- "$t" "$d"/{shlex.quote(_NAME)}; then exit 0; fi
rm -f -- "$t"
exit 1
"""
"""Shell script that replaces the file with its stdin atomically, mode 0600.

The temporary file lives in the same directory, so ``mv`` is a rename and a reader
sees the old or the new file, never a part of one.
"""

_STEP_STATES: tuple[str, ...] = get_args(StepState)


@dataclass(frozen=True)
class SharedProgress:
    """The contents of the progress file on a VPS."""

    progress: ServerProgress
    """The progress; its ``host_key`` is None, because the file lives on that host."""

    written_at: float
    """Epoch seconds when the attendee app wrote the file, by the laptop's clock."""

    team: str | None
    app_version: str


def encode_shared_progress(
    progress: ServerProgress, *, team: str | None, written_at: float
) -> bytes:
    """Return the file's contents for ``progress``: UTF-8 JSON ending with a newline."""
    lessons = {
        lesson_id: {
            "current_step": lesson.current_step,
            "steps": dict(lesson.steps),
            "run": {
                step_id: {
                    "run_id": record.run_id,
                    "remote_dir": record.remote_dir,
                    "block": record.block,
                    "stdout_offset": record.stdout_offset,
                    "stderr_offset": record.stderr_offset,
                    "exit_status": record.exit_status,
                    "stopped": record.stopped,
                }
                for step_id, record in lesson.run.items()
            },
        }
        for lesson_id, lesson in progress.lessons.items()
    }
    document = {
        "format": SHARED_FORMAT_VERSION,
        "app_version": __version__,
        "written_at": written_at,
        "team": team,
        "current_lesson": progress.current_lesson,
        "step_since": progress.step_since,
        "hand_raised_at": progress.hand_raised_at,
        "updated_at": progress.updated_at,
        "lessons": lessons,
    }
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")


def decode_shared_progress(text: str) -> SharedProgress | None:
    """Decode the file's contents, or return None when ``text`` is empty or only whitespace.

    Keys that this version does not know are ignored.

    Raises:
        ValueError: the text is not JSON, a field has the wrong type, or the file has a
            newer format than this version reads. The message names the field.
    """
    if not text.strip():
        return None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON ({error})") from None
    top = _object(document, "the top level")
    version = _integer(top, "format")
    if version > SHARED_FORMAT_VERSION:
        raise ValueError(
            f"it has format {version}, written by a newer workshop-tui, and this "
            f"version reads format {SHARED_FORMAT_VERSION} only; update workshop-tui"
        )
    if version < 1:
        raise ValueError(f"'format' must be 1 or more, not {version}")
    lessons = {
        lesson_id: _lesson(_object(raw, f"lessons.{lesson_id}"), f"lessons.{lesson_id}")
        for lesson_id, raw in _object(top.get("lessons", {}), "lessons").items()
    }
    progress = ServerProgress(
        current_lesson=_optional_string(top, "current_lesson"),
        lessons=lessons,
        step_since=_optional_number(top, "step_since"),
        hand_raised_at=_optional_number(top, "hand_raised_at"),
        updated_at=_optional_number(top, "updated_at"),
    )
    written_at = _optional_number(top, "written_at")
    if written_at is None:
        raise ValueError("'written_at' is missing")
    return SharedProgress(
        progress=progress,
        written_at=written_at,
        team=_optional_string(top, "team"),
        app_version=_optional_string(top, "app_version") or "",
    )


def write_shared_progress(connection: Connection, data: bytes) -> None:
    """Replace the progress file on the connection's host with ``data``.

    Raises:
        ConnectionLost: the connection broke; the file is the old or the new one.
        RemoteTimeout: the write did not finish within ``WRITE_TIMEOUT_SECONDS``.
        RemoteError: the shell could not write the file, e.g. because the disk is full.
    """
    result = connection.exec(
        WRITE_SHARED_PROGRESS_SCRIPT, stdin=data, timeout=WRITE_TIMEOUT_SECONDS
    )
    if result.exit_status != 0:
        detail = result.stderr.decode("utf-8", "replace").strip() or "no message"
        raise RemoteError(
            f"writing ~/{SHARED_PROGRESS_FILE} on {connection.login.target} failed with "
            f"exit status {result.exit_status}: {detail}"
        )


# Typed field readers. Each raises ValueError naming the field by its dotted path.


def _lesson(raw: Mapping[str, Any], where: str) -> LessonProgress:
    steps: dict[str, StepState] = {}
    for step_id, state in _object(raw.get("steps", {}), f"{where}.steps").items():
        if state not in _STEP_STATES:
            raise ValueError(
                f"'{where}.steps.{step_id}' must be one of {', '.join(_STEP_STATES)}, not {state!r}"
            )
        steps[step_id] = cast(StepState, state)
    runs = {
        step_id: _run(_object(record, f"{where}.run.{step_id}"), f"{where}.run.{step_id}")
        for step_id, record in _object(raw.get("run", {}), f"{where}.run").items()
    }
    return LessonProgress(
        current_step=_optional_string(raw, "current_step", where), steps=steps, run=runs
    )


def _run(raw: Mapping[str, Any], where: str) -> RunRecord:
    stopped = raw.get("stopped", False)
    if not isinstance(stopped, bool):
        raise ValueError(f"'{where}.stopped' must be true or false, not {stopped!r}")
    run_id = _optional_string(raw, "run_id", where)
    remote_dir = _optional_string(raw, "remote_dir", where)
    if run_id is None or remote_dir is None:
        raise ValueError(f"'{where}' needs a 'run_id' and a 'remote_dir'")
    exit_status = raw.get("exit_status")
    return RunRecord(
        run_id=run_id,
        remote_dir=remote_dir,
        block=_integer(raw, "block", where),
        stdout_offset=_integer(raw, "stdout_offset", where, default=0),
        stderr_offset=_integer(raw, "stderr_offset", where, default=0),
        exit_status=None if exit_status is None else _integer(raw, "exit_status", where),
        stopped=stopped,
    )


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"'{where}' must be a JSON object, not {_json_type(value)}")
    return value


def _path(where: str | None, key: str) -> str:
    return f"{where}.{key}" if where else key


def _integer(
    raw: Mapping[str, Any], key: str, where: str | None = None, *, default: int | None = None
) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"'{_path(where, key)}' must be an integer, not {_json_type(value)}")
    return value


def _optional_string(raw: Mapping[str, Any], key: str, where: str | None = None) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"'{_path(where, key)}' must be a string, not {_json_type(value)}")
    return value


def _optional_number(raw: Mapping[str, Any], key: str) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"'{key}' must be a number of seconds, not {_json_type(value)}")
    return float(value)


def _json_type(value: object) -> str:
    """Name the JSON type of ``value`` for error messages."""
    if value is None:
        return "null (or missing)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        shortened = value if len(value) <= 40 else value[:40] + "…"
        return f"the string {shortened!r}"
    if isinstance(value, list):
        return "a list"
    return "an object"
