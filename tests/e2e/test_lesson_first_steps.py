"""Lesson first-steps on fresh lab hosts, with each step's Solution typed in the terminal.

Every step of this lesson is done in the real terminal, so each test types the step's
Solution through the product's own ssh code and proves that the step's checks fail
before and pass after. The sudo user runs on alpha and root on bravo.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from workshop_tui.core.lessons import Catalog, Step
from workshop_tui.core.login import Login
from workshop_tui.core.session import Session
from workshop_tui.lab import LabHost

from .lesson_proof import assert_all_fail, pinned_known_hosts, prove_step
from .lesson_terminal import Attendee, TerminalUser, solution_typed_text

pytestmark = pytest.mark.lab


def who_and_where(attendee: Attendee, step: Step) -> None:
    commands = attendee.solution(step)
    assert commands == ["whoami", "hostname", "hostname -f", "pwd", "ls", "exit"]
    screen = attendee.user.open_terminal()
    try:
        for command in commands[:-1]:
            screen.type_line(command)
        screen.wait_for(rf"(?m)^{re.escape(attendee.user.host.fqdn)}$")
    finally:
        screen.exit()


def become_root(attendee: Attendee, step: Step) -> None:
    assert attendee.solution(step) == ["sudo whoami", "exit"]
    user = attendee.user
    if not user.as_root:
        # sudo without a terminal, as the app uses it, writes the same journal line
        # except for TTY=pts/N, and must not pass the step.
        password = user.host.user_password.encode() + b"\n"
        connection = attendee.session.connection
        result = connection.exec("sudo -S -p '' whoami", stdin=password, timeout=30)
        assert result.stdout.decode().strip() == "root", result
        assert_all_fail(attendee.session, attendee.lesson, step)
    screen = user.open_terminal()
    try:
        user.start_sudo(screen, "sudo whoami")
        screen.wait_prompt()
        screen.wait_for(r"(?m)^root$")
    finally:
        screen.exit()


def edit_motd(attendee: Attendee, step: Step) -> None:
    assert attendee.solution(step) == ["sudo nano /etc/motd"]
    greeting = solution_typed_text(step, attendee.values)
    assert attendee.values["hostname"] in greeting
    user = attendee.user
    screen = user.open_terminal()
    try:
        user.start_sudo(screen, "sudo nano /etc/motd")
        user.save_in_nano(screen, greeting + "\r")
    finally:
        screen.exit()
    # The step has the attendee open the terminal again to see the new greeting.
    again = user.open_terminal()
    try:
        assert greeting in again.text(), again.text()
    finally:
        again.exit()


def list_processes(attendee: Attendee, step: Step) -> None:
    assert attendee.solution(step) == ["ps", "ps -ef", "top"]
    screen = attendee.user.open_terminal()
    try:
        screen.type_line("ps")
        screen.type_line("ps -ef")
        screen.wait_for(r"(?m)^root +1 +0 ")
        screen.press("top\r")
        screen.wait_for(r"load average")
        screen.press("q")
        screen.wait_prompt()
    finally:
        screen.exit()


def answer_port_22(attendee: Attendee, step: Step) -> None:
    assert attendee.solution(step) == [
        "sudo ss -ltnp",
        "mkdir ~/answers",
        "nano ~/answers/port-22",
    ]
    answer = solution_typed_text(step, attendee.values)
    user = attendee.user
    screen = user.open_terminal()
    try:
        user.start_sudo(screen, "sudo ss -ltnp")
        screen.wait_prompt()
        screen.wait_for(rf'users:\(\("{re.escape(answer)}",pid=\d+')
        screen.type_line("mkdir ~/answers")
        screen.press("nano ~/answers/port-22\r")
        user.save_in_nano(screen, answer)
    finally:
        screen.exit()


TERMINAL_WORK: dict[str, Callable[[Attendee, Step], None]] = {
    "Who and where you are": who_and_where,
    "Become root with sudo": become_root,
    "Edit a file with nano": edit_motd,
    "See what runs: processes": list_processes,
    "See who listens: ports": answer_port_22,
}


@pytest.mark.parametrize("as_root", [False, True], ids=["sudo-user", "root"])
def test_first_steps_in_terminal(
    lab_hosts: list[LabHost],
    catalog: Catalog,
    make_session: Callable[[Login], Session],
    tmp_path: Path,
    as_root: bool,
) -> None:
    host = lab_hosts[1] if as_root else lab_hosts[0]
    lesson = catalog.get("first-steps")
    assert lesson is not None
    assert next(iter(catalog)) is lesson, "first-steps must be the first lesson"
    checked = sorted(step.title for step in lesson.steps if step.checks)
    assert checked == sorted(TERMINAL_WORK), "every step with checks needs its terminal work"

    user = TerminalUser(host, as_root, pinned_known_hosts(tmp_path / "ssh_known_hosts", host))
    session = make_session(user.login)
    session.connect()
    try:
        attendee = Attendee(session, lesson, user, session.values(lesson))
        for step in lesson.steps:
            work = TERMINAL_WORK.get(step.title)
            act = None if work is None else partial(work, attendee, step)
            prove_step(session, lesson, step, act)
            if step.checks:
                assert session.progress.step_state(lesson.id, step.id) == "passed"
    finally:
        session.close()
