"""Prove a lesson on a lab host: each check fails before its step and passes after it.

A step's work is either its command blocks, run through the product's runner, or what
an attendee types in the real terminal. A test types the latter through
:class:`ShellScreen`. There the product's own ``start_shell`` logs in with ssh in a
pseudo-terminal, and pyte keeps the screen, so nano and mutt can be driven key by key.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import pyte

from workshop_tui.core.checks import CheckResult
from workshop_tui.core.lessons import Lesson, Step
from workshop_tui.core.login import Login
from workshop_tui.core.session import OutputChunk, Session
from workshop_tui.core.terminal import start_shell
from workshop_tui.lab import LabHost

from .terminal import PtyScreen, ScreenTimeout

PROMPT = re.compile(r"\S+@\S+:[^\r\n]*[$#] $")


def step_named(lesson: Lesson, title: str) -> Step:
    """Return the step of ``lesson`` with ``title``; fail the test if there is none."""
    for step in lesson.steps:
        if step.title == title:
            return step
    titles = ", ".join(repr(step.title) for step in lesson.steps)
    raise AssertionError(f"{lesson.id} has no step {title!r}; its steps: {titles}")


def _describe(results: list[CheckResult]) -> str:
    return "\n".join(
        f"  {'pass' if r.passed else 'FAIL'} {r.check.title}: {r.reason}\n    {r.evidence}"
        for r in results
    )


def assert_all_fail(session: Session, lesson: Lesson, step: Step) -> None:
    """Assert that no check of ``step`` passes yet (checks that wait report at once)."""
    results = session.check_step(lesson, step, allow_wait=False)
    passed = [r for r in results if r.passed]
    assert not passed, f"{lesson.id} / {step.title}: passed before the step:\n{_describe(passed)}"


def assert_all_pass(session: Session, lesson: Lesson, step: Step) -> None:
    """Assert that every check of ``step`` passes (checks may use their wait)."""
    results = session.check_step(lesson, step)
    failed = [r for r in results if not r.passed]
    assert not failed, f"{lesson.id} / {step.title}: failed after the step:\n{_describe(failed)}"


def run_commands(session: Session, lesson: Lesson, step: Step) -> str:
    """Run the step's command blocks as the Run button does; return their output."""
    output: list[OutputChunk] = []
    report = session.run_step(lesson, step, on_output=output.append)
    text = "".join(chunk.text for chunk in output)
    assert report.succeeded, f"{lesson.id} / {step.title}: commands failed:\n{text}"
    return text


def prove_step(
    session: Session,
    lesson: Lesson,
    step: Step,
    act: Callable[[], None] | None = None,
) -> None:
    """Check ``step`` fails, do its work, check it passes.

    The work is the step's command blocks, then ``act`` (terminal work) if given. A step
    without checks has nothing to prove; its work is still done.
    """
    if step.checks:
        assert_all_fail(session, lesson, step)
    if step.commands:
        run_commands(session, lesson, step)
    if act is not None:
        act()
    if step.checks:
        assert_all_pass(session, lesson, step)


class ShellScreen(PtyScreen):
    """A logged-in shell on a lab host, opened by the product's terminal code."""

    def __init__(self, login: Login, known_hosts: Path, *, columns: int = 100, rows: int = 30):
        # PtyScreen.__init__ spawns its own program; this class gets ssh from start_shell.
        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        # ssh passes TERM on to the server, where nano, top and Mutt need a real one; a
        # CI runner may have none.
        if os.environ.get("TERM", "dumb") == "dumb":
            os.environ["TERM"] = "xterm-256color"
        self.child = start_shell(login, known_hosts)
        self.child.setwinsize(rows, columns)
        self.wait_prompt(timeout=30)

    def wait_prompt(self, timeout: float = 30.0) -> None:
        """Wait until the shell's prompt is the last thing on the screen."""
        deadline = time.monotonic() + timeout
        while True:
            self.pump(0.2)
            row = self.screen.cursor.y
            line = self.screen.display[row][: self.screen.cursor.x]
            if PROMPT.search(line):
                return
            if time.monotonic() > deadline or not self.child.isalive():
                raise ScreenTimeout(f"no shell prompt within {timeout:g} s. Screen:\n{self.text()}")

    def type_line(self, line: str, timeout: float = 60.0) -> None:
        """Type one command and Enter, and wait for the next prompt."""
        self.press(line + "\r")
        self.wait_prompt(timeout)

    def type_password(self, password: str) -> None:
        """Answer sudo's password question."""
        self.wait_for(r"\[sudo\] password for", timeout=15)
        self.child.send(password + "\r")

    def exit(self) -> None:
        """Leave the shell with ``exit``, as attendees do, so bash writes its history."""
        self.press("exit\r")
        deadline = time.monotonic() + 15
        while self.child.isalive() and time.monotonic() < deadline:
            self.pump(0.2)
        self.close()


def pinned_known_hosts(path: Path, host: LabHost) -> Path:
    """Write an OpenSSH known_hosts file that trusts exactly the lab host's keys."""
    name = host.address if host.port == 22 else f"[{host.address}]:{host.port}"
    lines = [f"{name} {kind} {key}" for kind, key in host.host_keys]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
