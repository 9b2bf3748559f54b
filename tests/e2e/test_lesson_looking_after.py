"""Lesson looking-after on a fresh lab host that has done the earlier lessons' commands.

The host first runs, through the product, the command blocks of the lessons before
it: Postfix, Mutt from the lesson between teams, and Dovecot. Then every step of this
lesson is proved: its checks fail before its own work, its command blocks or the
Solution typed in the terminal, and pass after it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from workshop_tui.core.hostkeys import KnownHosts
from workshop_tui.core.lessons import Catalog, Step
from workshop_tui.core.progress import ProgressStore
from workshop_tui.core.session import Session
from workshop_tui.lab import LabHost

from .lesson_proof import (
    ShellScreen,
    assert_all_pass,
    pinned_known_hosts,
    prove_step,
    run_commands,
)
from .lesson_terminal import Attendee, TerminalUser, solution_typed_text

pytestmark = pytest.mark.lab

EARLIER_LESSONS = ("postfix", "mail-between-teams", "dovecot")
TEAM = "Blue"
EXAMPLE_QUEUE_ID = "A4F7727C645"
LOCAL_DELIVERY = re.compile(r"postfix/local\[\d+\]: ([0-9A-F]{6,}): to=<")


def follow_queue_id(attendee: Attendee, step: Step) -> None:
    listing = "sudo journalctl -u postfix@- | grep status=sent"
    follow = f"sudo journalctl -u postfix@- | grep {EXAMPLE_QUEUE_ID}"
    assert attendee.solution(step) == [listing, follow, "exit"]
    user = attendee.user
    screen = user.open_terminal()
    try:
        user.start_sudo(screen, listing)
        screen.wait_prompt()
        # The newest delivery, the mail "Follow me", is the last line of the listing.
        queue_ids = LOCAL_DELIVERY.findall(screen.text())
        assert queue_ids, screen.text()
        queue_id = queue_ids[-1]
        screen.type_line(follow.replace(EXAMPLE_QUEUE_ID, queue_id))
        screen.wait_for(rf"postfix/qmgr\[\d+\]: {queue_id}: removed")
    finally:
        screen.exit()


def write_answer(user: TerminalUser, screen: ShellScreen, path: str, answer: str) -> None:
    screen.type_line("mkdir -p ~/answers")
    screen.press(f"nano {path}\r")
    user.save_in_nano(screen, answer)


def name_port_25(attendee: Attendee, step: Step) -> None:
    assert attendee.solution(step) == [
        "ps -f -C master,qmgr,pickup",
        "ps -ef | grep dovecot",
        "sudo ss -ltnp",
        "mkdir -p ~/answers",
        "nano ~/answers/port-25",
    ]
    answer = solution_typed_text(step, attendee.values)
    user = attendee.user
    screen = user.open_terminal()
    try:
        screen.type_line("ps -f -C master,qmgr,pickup")
        screen.wait_for(r"/usr/lib/postfix/sbin/master")
        screen.type_line("ps -ef | grep dovecot")
        screen.wait_for(r"dovecot/config")
        user.start_sudo(screen, "sudo ss -ltnp")
        screen.wait_prompt()
        screen.wait_for(rf':25 .*users:\(\("{re.escape(answer)}",pid=\d+')
        write_answer(user, screen, "~/answers/port-25", answer)
    finally:
        screen.exit()


def read_bounce(attendee: Attendee, step: Step) -> None:
    assert attendee.solution(step) == ["mutt", "mkdir -p ~/answers", "nano ~/answers/bounce-status"]
    answer = solution_typed_text(step, attendee.values)
    screen = attendee.user.open_terminal()
    try:
        screen.press("mutt\r")
        # Mutt creates ~/Mail when it first starts. Lesson mail-between-teams starts it
        # in the terminal, but this test runs only that lesson's command blocks.
        screen.wait_for(r"Mail does not exist\. Create it\?")
        screen.press("\r")
        screen.wait_for(r"Undelivered Mail Returned to Sender")
        screen.press("*")
        screen.press("\r")
        screen.wait_for(r"From: Mail Delivery System <MAILER-DAEMON@")
        screen.press(" ")
        screen.wait_for(rf"(?m)^Status: {re.escape(answer)}$")
        screen.press("q")
        screen.wait_for(r"q:Quit")
        screen.press("q")
        screen.wait_prompt()
        write_answer(attendee.user, screen, "~/answers/bounce-status", answer)
    finally:
        screen.exit()


TERMINAL_WORK: dict[str, Callable[[Attendee, Step], None]] = {
    "Follow one mail by its queue ID": follow_queue_id,
    "Which programs do the work": name_port_25,
    "Read the bounce": read_bounce,
}


def run_earlier_lessons(session: Session, catalog: Catalog) -> None:
    """Run every command block of the lessons before this one, as the Run button does."""
    for lesson_id in EARLIER_LESSONS:
        lesson = catalog.get(lesson_id)
        assert lesson is not None, lesson_id
        for step in lesson.steps:
            if step.commands:
                run_commands(session, lesson, step)


def leaves_earlier_lessons_passing(session: Session, catalog: Catalog) -> None:
    """Assert that the checks of the Postfix and Dovecot lessons still pass.

    This lesson stops Postfix and changes Dovecot's greeting, and attendees may check
    an earlier lesson again. The lesson between teams needs a partner host, so it is
    left out.
    """
    for lesson_id in ("postfix", "dovecot"):
        lesson = catalog.get(lesson_id)
        assert lesson is not None, lesson_id
        for step in lesson.steps:
            if step.checks:
                assert_all_pass(session, lesson, step)


def test_looking_after_on_mail_server(
    lab_hosts: list[LabHost], catalog: Catalog, tmp_path: Path
) -> None:
    host = lab_hosts[0]
    lesson = catalog.get("looking-after")
    assert lesson is not None
    assert lesson.requires == ("dovecot",)
    without_work = [s.title for s in lesson.steps if s.checks and not s.commands]
    assert sorted(without_work) == sorted(TERMINAL_WORK), "terminal steps need their work"

    user = TerminalUser(host, False, pinned_known_hosts(tmp_path / "ssh_known_hosts", host))
    session = Session(
        user.login,
        known_hosts=KnownHosts(tmp_path / "known_hosts"),
        progress_store=ProgressStore(tmp_path / "progress.json"),
        # Lesson mail-between-teams writes the team's name into ~/.muttrc.
        overrides={"team": TEAM},
    )
    session.connect()
    try:
        run_earlier_lessons(session, catalog)
        attendee = Attendee(session, lesson, user, session.values(lesson))
        for step in lesson.steps:
            work = TERMINAL_WORK.get(step.title)
            act = None if work is None else partial(work, attendee, step)
            prove_step(session, lesson, step, act)
            if step.checks:
                assert session.progress.step_state(lesson.id, step.id) == "passed"
        leaves_earlier_lessons_passing(session, catalog)
    finally:
        session.close()
