"""Texts of the step screen: a step's Markdown, and its fixed messages."""

from __future__ import annotations

from collections.abc import Mapping

from workshop_tui.core.lessons import Lesson
from workshop_tui.core.variables import MissingVariable
from workshop_tui.ui.widgets.checks_panel import fill_in
from workshop_tui.ui.widgets.step_runner import missing_variable_message

STOP_QUESTION = (
    "Stopping an installation half-way can leave packages half-installed. If apt then "
    "says that dpkg was interrupted, open the terminal (t) and run: "
    "sudo dpkg --configure -a"
)
"""The question before Stop. It names the repair command, because the app does not run it."""


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
