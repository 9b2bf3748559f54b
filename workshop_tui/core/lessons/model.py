"""The parts of a lesson: steps, the commands they run and the checks they expect."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from workshop_tui.core.checks import Check
from workshop_tui.core.variables import render_command, render_text

DEFAULT_COMMAND_TIMEOUT = 900
"""Seconds after which a step's commands are stopped when no fence sets ``timeout=``.

An apt install of the mail stack takes under a minute on a VPS; fifteen minutes leaves
room for a slow mirror while still ending a command that waits for input forever.
"""


@dataclass(frozen=True)
class CommandBlock:
    """A fenced shell script that the app runs on the VPS when the attendee presses Run."""

    script: str
    as_root: bool
    timeout: int
    line: int
    language: str = "sh"

    def render(self, values: Mapping[str, str]) -> str:
        """Return the script with every placeholder replaced by its shell-quoted value."""
        return render_command(self.script, values)


@dataclass(frozen=True)
class BodyPart:
    """A piece of a step's Markdown: prose, or a command block shown in place."""

    kind: Literal["markdown", "command"]
    text: str
    line: int
    """1-based line in the lesson file where this part starts."""

    command: CommandBlock | None = None


@dataclass(frozen=True)
class Step:
    """One ``##`` section of a lesson."""

    id: str
    """A slug of the title, unique in the lesson; progress is saved under it."""

    title: str
    line: int
    parts: tuple[BodyPart, ...]
    commands: tuple[CommandBlock, ...]
    checks: tuple[Check, ...]
    hint: str | None = None
    solution: str | None = None

    def render_markdown(self, values: Mapping[str, str]) -> str:
        """Return the step's Markdown with placeholders filled in for display.

        Command blocks show exactly the text that will run, quoting included.
        """
        rendered: list[str] = []
        for part in self.parts:
            if part.command is not None:
                script = part.command.render(values).rstrip("\n")
                rendered.append(f"```{part.command.language}\n{script}\n```\n")
            else:
                rendered.append(render_text(part.text, values))
        return "".join(rendered).strip() + "\n"


@dataclass(frozen=True)
class Lesson:
    """A lesson file: front matter, an introduction and its steps."""

    id: str
    title: str
    summary: str
    path: Path
    intro: str
    steps: tuple[Step, ...]
    requires: tuple[str, ...] = ()
    variables: Mapping[str, str | None] = field(default_factory=dict)
    """Variables this lesson adds to the built-in ones, with defaults (None: no default)."""

    requires_line: int = 1
    """1-based line of ``requires:`` in the front matter, for error messages."""

    def step_index(self, step_id: str) -> int | None:
        """Return the position of the step with ``step_id``, or None if there is none."""
        for index, step in enumerate(self.steps):
            if step.id == step_id:
                return index
        return None
