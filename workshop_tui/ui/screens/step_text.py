"""Texts of the step screen: a step's Markdown, and its fixed messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from workshop_tui.core.lessons import Lesson, Step
from workshop_tui.core.progress import RunRecord, StepState
from workshop_tui.core.variables import MissingVariable
from workshop_tui.ui.widgets.checks_panel import fill_in
from workshop_tui.ui.widgets.step_runner import missing_variable_message

StatusKind = Literal["info", "running", "done", "failed", "warning"]
"""Kind of message in the status line; each kind has its own colour."""

STOP_QUESTION = (
    "Stopping an installation half-way can leave packages half-installed. If apt then "
    "says that dpkg was interrupted, open the terminal (t) and run: "
    "sudo DEBIAN_FRONTEND=noninteractive dpkg --configure -a"
)
"""The question before Stop. It names the repair command, because the app does not run it.
Without DEBIAN_FRONTEND=noninteractive, dpkg would open the full-screen configuration
dialog of a package such as Postfix instead of using the debconf answers given in advance."""


def step_markdown(lesson: Lesson, index: int, values: Mapping[str, str]) -> str:
    """Return the Markdown shown for step ``index``, after the lesson intro on the first step."""
    step = lesson.steps[index]
    parts: list[str] = []
    if index == 0 and lesson.intro.strip():
        parts.append(fill_in(lesson.intro, values))
    parts.append(f"## {step.title}")
    try:
        parts.append(step.render_markdown(values))
    except MissingVariable as error:
        parts.append(f"> ⚠ {missing_variable_message(error)}")
    return "\n\n".join(parts)


def nothing_to_do(*, last_step: bool) -> str:
    """Return the message of r and c on a step without commands and without checks."""
    if last_step:
        return "This step has nothing to run or check. Read it and press n to finish the lesson."
    return "This step has nothing to run or check. Read it and press n for the next step."


def block_text(step: Step, block: int) -> str:
    """Return `` in command block N`` for a step with several blocks, else an empty string."""
    if len(step.commands) > 1:
        return f" in command block {block + 1}"
    return ""


def replay_heading(step: Step, record: RunRecord) -> str:
    """Return the note above the replayed output of ``record``, the step's last run."""
    if len(step.commands) > 1:
        return f"Output of the last run (command block {record.block + 1} of {len(step.commands)}):"
    return "Output of the last run:"


def last_run_failed(step: Step, record: RunRecord) -> str:
    """Return the status line for a step whose last run ended with a non-zero status."""
    if record.stopped:
        return (
            f"■ The commands were stopped last time{block_text(step, record.block)}. "
            "Press r to run them again."
        )
    return (
        f"✖ The commands failed last time{block_text(step, record.block)} (exit status "
        f"{record.exit_status}). Read their output, then press r to run them again or h "
        "for a hint."
    )


def initial_status(
    step: Step,
    state: StepState | None,
    *,
    unfinished: bool,
    last_run: RunRecord | None,
    after_done: str,
) -> tuple[str, StatusKind]:
    """Return the status line of a step that was just opened, from its saved progress.

    Args:
        step: The step.
        state: Its saved state, or None if it was never run or checked.
        unfinished: Whether a run of its commands has not reported its end.
        last_run: Its latest run, finished or not.
        after_done: What to do once the step is done, as :meth:`after_done` returns it.
    """
    failed_run = last_run is not None and last_run.exit_status not in (None, 0)
    if state == "passed":
        return f"✓ This step is done. {after_done}", "done"
    if step.commands and unfinished:
        return (
            "Commands of this step started earlier may still be running on your server. "
            "Press r to follow their output.",
            "warning",
        )
    if step.commands and last_run is not None and failed_run:
        return last_run_failed(step, last_run), "failed"
    if state == "failed":
        return (
            "✖ The last check of this step failed. Press c to check again, h for a hint.",
            "failed",
        )
    if state == "ran":
        return "The commands ran. Press c to check the result.", "info"
    if step.commands:
        return "Read the step, then press r to run its commands.", "info"
    if step.checks:
        return "Do this step in a terminal (t), then press c to check it.", "info"
    return "Read this step, then press n to go on.", "info"
