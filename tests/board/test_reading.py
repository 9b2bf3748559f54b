"""The board's extra probes: run output tails, the progress read and which steps to check."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from workshop_tui.core.board.reading import (
    OUTPUT_TAIL_BYTES,
    output_probe,
    parse_output,
    read_progress,
    steps_to_check,
)
from workshop_tui.core.lessons import Lesson
from workshop_tui.core.probes import ProbeOutput
from workshop_tui.core.progress import RunRecord

from .fakes import progress_at, write_lessons

HOSTILE = "runs/x'; touch pwned #"


def run_output_probe(directory: Path, stdout: str | None, stderr: str | None) -> str:
    """Write the run files (None: leave it out), run the probe with bash and parse it."""
    directory.mkdir(parents=True, exist_ok=True)
    if stdout is not None:
        (directory / "stdout").write_text(stdout, encoding="utf-8")
    if stderr is not None:
        (directory / "stderr").write_text(stderr, encoding="utf-8")
    probe, separator = output_probe(RunRecord(run_id="r", remote_dir=str(directory), block=0))
    done = subprocess.run(
        ["bash", "-c", probe.script], capture_output=True, cwd=directory.parent, check=False
    )
    text = done.stdout.decode("utf-8", "replace")
    return parse_output(ProbeOutput(done.returncode, text, False), separator)


def test_output_both_streams(tmp_path: Path) -> None:
    shown = run_output_probe(tmp_path / "run", "one\ntwo\n", "warning\n")
    assert shown == "one\ntwo\n--- stderr ---\nwarning"


def test_output_stdout_only(tmp_path: Path) -> None:
    assert run_output_probe(tmp_path / "run", "only\n", "") == "only"


def test_output_stderr_only(tmp_path: Path) -> None:
    assert run_output_probe(tmp_path / "run", "", "E: broken\n") == "--- stderr ---\nE: broken"


def test_output_missing_directory(tmp_path: Path) -> None:
    assert run_output_probe(tmp_path / "gone", None, None) == ""


def test_output_quotes_path(tmp_path: Path) -> None:
    directory = tmp_path / HOSTILE
    assert run_output_probe(directory, "safe\n", "") == "safe"
    assert not (tmp_path / "runs" / "pwned").exists()
    assert not (tmp_path / "pwned").exists()


def test_output_long_streams_share_limit(tmp_path: Path) -> None:
    stdout = "".join(f"out {number}\n" for number in range(3000))
    stderr = "".join(f"err {number}\n" for number in range(3000))
    shown = run_output_probe(tmp_path / "run", stdout, stderr)
    head, _, tail = shown.partition("\n--- stderr ---\n")
    assert len(head) + len(tail) <= OUTPUT_TAIL_BYTES
    assert head.endswith("out 2999")
    assert tail.endswith("err 2999")
    assert head.startswith("out ")
    assert tail.startswith("err ")


def test_output_short_stdout_gives_room_to_stderr(tmp_path: Path) -> None:
    stderr = "".join(f"err {number}\n" for number in range(3000))
    shown = run_output_probe(tmp_path / "run", "out\n", stderr)
    assert len(shown.partition("\n--- stderr ---\n")[2]) > OUTPUT_TAIL_BYTES // 2


def test_output_terminal_controls_removed(tmp_path: Path) -> None:
    stdout = "Progress: 10%\rProgress: 100%\n\x1b[31mred\x1b[0m\x07\n"
    assert run_output_probe(tmp_path / "run", stdout, "") == "Progress: 100%\nred"


def test_read_progress_empty_is_none() -> None:
    assert read_progress(ProbeOutput(0, "", False)) is None


def test_read_progress_truncated() -> None:
    with pytest.raises(ValueError, match="larger than"):
        read_progress(ProbeOutput(0, "{" * 10, True))


def test_read_progress_failed_read() -> None:
    with pytest.raises(ValueError, match="exit status 1: head: Permission denied"):
        read_progress(ProbeOutput(1, "head: Permission denied\n", False))


@pytest.fixture(scope="module")
def basics(tmp_path_factory: pytest.TempPathFactory) -> Lesson:
    lesson = write_lessons(Path(tmp_path_factory.mktemp("lessons"))).get("basics")
    assert lesson is not None
    return lesson


def test_steps_to_check_up_to_current(basics: Lesson) -> None:
    progress = progress_at("basics", "install-the-tool")
    assert [step.id for step in steps_to_check(basics, progress)] == [
        "read-the-plan",
        "install-the-tool",
    ]


def test_steps_to_check_adds_touched_later_steps(basics: Lesson) -> None:
    progress = progress_at("basics", "read-the-plan", {"check-as-root": "failed"})
    assert [step.id for step in steps_to_check(basics, progress)] == [
        "read-the-plan",
        "check-as-root",
    ]


def test_steps_to_check_skips_passed_steps(basics: Lesson) -> None:
    progress = progress_at(
        "basics",
        "configure-the-tool",
        {"read-the-plan": "passed", "install-the-tool": "passed", "configure-the-tool": "passed"},
    )
    assert [step.id for step in steps_to_check(basics, progress)] == ["configure-the-tool"]


def test_steps_to_check_without_progress(basics: Lesson) -> None:
    assert steps_to_check(basics, None) == []
