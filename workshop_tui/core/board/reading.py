"""The probes that a board refresh adds to a team's checks, and how their output is read.

A refresh reads the attendee app's progress file and the end of the current step's
latest run output in the same exec as the lesson's shell checks. Everything read here
comes from the team's VPS, so it is treated as untrusted text: paths are shell-quoted
and the output is stripped of terminal control sequences before the board shows it.
"""

from __future__ import annotations

import re
import secrets
import shlex
from collections.abc import Mapping, Sequence

from workshop_tui.core.checks import Check, CheckResult
from workshop_tui.core.lessons import Lesson, Step
from workshop_tui.core.probes import PROBE_OUTPUT_LIMIT, Probe, ProbeOutput
from workshop_tui.core.progress import RunRecord, ServerProgress
from workshop_tui.core.shared_progress import (
    READ_SHARED_PROGRESS_SCRIPT,
    SHARED_PROGRESS_FILE,
    SharedProgress,
    decode_shared_progress,
)

OUTPUT_TAIL_BYTES = 4096
"""Maximum bytes of a run's output that one refresh reads and shows."""

_ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]")
_CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def progress_probe() -> Probe:
    """Return the probe that prints the attendee app's progress file, if there is one."""
    return Probe(READ_SHARED_PROGRESS_SCRIPT)


def read_progress(output: ProbeOutput) -> SharedProgress | None:
    """Decode the output of :func:`progress_probe`; None when there is no file.

    Raises:
        ValueError: the file is malformed or could not be read; the message states why.
    """
    if output.exit_status != 0:
        detail = output.output.strip().splitlines()[-1:] or ["no message"]
        raise ValueError(f"reading it failed with exit status {output.exit_status}: {detail[0]}")
    if output.truncated:
        raise ValueError(f"it is larger than {PROBE_OUTPUT_LIMIT // 1024} KB")
    return decode_shared_progress(output.output)


def describe_progress_problem(host: str, error: ValueError) -> str:
    """Return the one-line problem text for a progress file that could not be read."""
    return f"~/{SHARED_PROGRESS_FILE} on {host} could not be read: {error}."


def output_probe(record: RunRecord) -> tuple[Probe, str]:
    """Return a probe that prints the ends of a run's stdout and stderr, and its separator.

    Each file contributes at most one byte more than :data:`OUTPUT_TAIL_BYTES`, so
    :func:`parse_output` can tell whether the start of a file was left out.
    """
    separator = "wtoutput" + secrets.token_hex(12)
    middle = len(separator) // 2
    limit = OUTPUT_TAIL_BYTES + 1
    # The separator is printed from two halves, so a run that lists processes cannot
    # copy it from this probe's command line into its own output.
    script = "\n".join(
        [
            f"d={shlex.quote(record.remote_dir)}",
            f'tail -c {limit} -- "$d/stdout" 2>/dev/null',
            f"printf '\\n%s%s\\n' '{separator[:middle]}' '{separator[middle:]}'",
            f'tail -c {limit} -- "$d/stderr" 2>/dev/null',
            "exit 0",
        ]
    )
    return Probe(script), separator


def parse_output(output: ProbeOutput, separator: str) -> str:
    """Return the end of the run's output for display, or "" when none could be read.

    Standard output comes first. Standard error, if the run wrote any, follows after a
    ``--- stderr ---`` line, because the order in which lines of the two streams
    arrived is not recorded. Together they fill at most :data:`OUTPUT_TAIL_BYTES`
    characters, of which standard error gets up to half when both are long.
    """
    stdout, found, stderr = output.output.partition(f"\n{separator}\n")
    if not found:
        return ""
    stderr_share = min(len(stderr), max(OUTPUT_TAIL_BYTES - len(stdout), OUTPUT_TAIL_BYTES // 2))
    stdout_text = _tail(stdout, OUTPUT_TAIL_BYTES - stderr_share)
    stderr_text = _tail(stderr, stderr_share)
    if not stderr_text:
        return stdout_text
    return f"{stdout_text}\n--- stderr ---\n{stderr_text}".lstrip("\n")


def _tail(text: str, limit: int) -> str:
    """Return the last ``limit`` characters as whole lines, cleaned for display.

    A first line that the limit cut is dropped. NOTE: the cut is detected by counting
    characters, so with multibyte text a partial first line can remain.
    """
    if limit <= 0:
        return ""
    cut = len(text) > limit
    text = text[-limit:]
    if cut and "\n" in text:
        text = text.split("\n", 1)[1]
    return _clean(text).rstrip("\n")


def _clean(text: str) -> str:
    """Remove terminal escape sequences and keep what a terminal shows after each ``\\r``."""
    text = _ESCAPE_SEQUENCE.sub("", text.replace("\r\n", "\n"))
    lines = [line.rstrip("\r").rsplit("\r", 1)[-1] for line in text.split("\n")]
    return _CONTROL_CHARACTER.sub("", "\n".join(lines))


def current_run(progress: ServerProgress | None, lesson: Lesson | None) -> RunRecord | None:
    """Return the latest run of the step that the attendee has open in ``lesson``."""
    if progress is None or lesson is None or progress.current_lesson != lesson.id:
        return None
    saved = progress.lessons.get(lesson.id)
    if saved is None or saved.current_step is None:
        return None
    return saved.run.get(saved.current_step)


def steps_to_check(lesson: Lesson, progress: ServerProgress | None) -> list[Step]:
    """Return the steps of ``lesson`` whose checks can change what the grid shows.

    Those are the attendee's current step and the other steps up to it or touched
    (run or checked) that have not passed. A step that passed stays done: a later
    step may undo its effect on purpose, as a lesson that stops Postfix to show the
    queue and then starts it again. The grid ignores live results of a later step
    that the attendee never touched, so checking it would cost time for nothing.
    """
    saved = progress.lessons.get(lesson.id) if progress is not None else None
    if saved is None:
        return []
    current = lesson.step_index(saved.current_step) if saved.current_step else None
    chosen = []
    for index, step in enumerate(lesson.steps):
        touched = step.id in saved.steps or (current is not None and index < current)
        if index == current or (touched and saved.steps.get(step.id) != "passed"):
            chosen.append(step)
    return chosen


def missing_variables(check: Check, values: Mapping[str, str]) -> list[str]:
    """Return the names of the variables that ``check`` needs and ``values`` lacks."""
    return sorted(check.variables_used() - values.keys())


def unchecked(check: Check, reason: str) -> CheckResult:
    """Return a failed result for a check that the board could not run."""
    return CheckResult(check, False, reason)


def group_by_step(
    pairs: Sequence[tuple[Step, CheckResult]],
) -> dict[str, tuple[CheckResult, ...]]:
    """Return the results by step id, each step's in the order of its checks."""
    grouped: dict[str, list[CheckResult]] = {}
    for step, result in pairs:
        grouped.setdefault(step.id, []).append(result)
    return {step_id: tuple(results) for step_id, results in grouped.items()}
