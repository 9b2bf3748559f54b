"""Terminal work for lesson tests: read a step's Solution and type it as an attendee would."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from workshop_tui.core.lessons import Lesson, Step
from workshop_tui.core.session import Session
from workshop_tui.core.variables import render_text
from workshop_tui.lab import LabHost

from .conftest import login_for
from .lesson_proof import ShellScreen

CTRL_O = "\x0f"
CTRL_X = "\x18"


def solution_commands(step: Step, values: Mapping[str, str]) -> list[str]:
    """Return the lines of the ```sh blocks in the step's Solution, placeholders filled in."""
    assert step.solution is not None, f"{step.title} has no solution"
    blocks = re.findall(r"```sh\n(.*?)```", render_text(step.solution, values), re.DOTALL)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def solution_typed_text(step: Step, values: Mapping[str, str]) -> str:
    """Return the first text in backquotes after "Type" in the Solution's prose."""
    assert step.solution is not None, f"{step.title} has no solution"
    match = re.search(r"Type `([^`]+)`", render_text(step.solution, values))
    assert match, f"{step.title}: the solution names no text to type"
    return match.group(1)


class TerminalUser:
    """An attendee on a lab host who opens the terminal as the app's t key does."""

    def __init__(self, host: LabHost, as_root: bool, known_hosts: Path) -> None:
        self.host = host
        self.as_root = as_root
        self.login = login_for(host, as_root=as_root)
        self.known_hosts = known_hosts

    def open_terminal(self) -> ShellScreen:
        return ShellScreen(self.login, self.known_hosts)

    def start_sudo(self, screen: ShellScreen, command: str) -> None:
        """Type a sudo command and answer the password question, which root never gets.

        sudo prompts for the password once per terminal, so this is for the first sudo
        of a screen.
        """
        screen.press(command + "\r")
        if not self.as_root:
            screen.type_password(self.host.user_password)

    def save_in_nano(self, screen: ShellScreen, text: str) -> None:
        """Type ``text`` at the cursor, save with Ctrl+O and Enter, and leave with Ctrl+X."""
        screen.wait_for(r"GNU nano")
        screen.press(text)
        screen.press(CTRL_O)
        screen.wait_for(r"File Name to Write")
        screen.press("\r")
        screen.wait_for(r"\[ Wrote \d+ lines? \]")
        screen.press(CTRL_X)
        screen.wait_prompt()


@dataclass
class Attendee:
    """The attendee's app session and terminal, with the lesson's variable values."""

    session: Session
    lesson: Lesson
    user: TerminalUser
    values: dict[str, str]

    def solution(self, step: Step) -> list[str]:
        return solution_commands(step, self.values)
