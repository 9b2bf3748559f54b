"""Lessons between two teams on two fresh lab hosts: Mutt from server to server, then Dovecot.

Both teams start where the Postfix lesson leaves them, with its command blocks run
through the product. Every check is shown to fail before the work that makes it pass:
a team's own steps for its own checks, and the partner's mail for the "arrived" check.
Mutt is driven key by key in the real terminal, following the lesson's instructions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from workshop_tui.core.checks import CheckResult
from workshop_tui.core.hostkeys import KnownHosts
from workshop_tui.core.lessons import Catalog, Lesson
from workshop_tui.core.progress import ProgressStore
from workshop_tui.core.roster import Roster, team_variables
from workshop_tui.core.session import Session
from workshop_tui.lab import Lab, LabHost
from workshop_tui.lab.roster import lab_teams

from .lesson_proof import (
    ShellScreen,
    assert_all_fail,
    assert_all_pass,
    pinned_known_hosts,
    prove_step,
    run_commands,
    step_named,
)

pytestmark = pytest.mark.lab

SEND = "Write to your partner team"
READ = "Read your partner team's mail"


@dataclass
class Team:
    """One team of the test: its lab host, its app session and its variables."""

    name: str
    host: LabHost
    session: Session
    values: dict[str, str]
    known_hosts: Path

    def shell(self) -> ShellScreen:
        return ShellScreen(self.session.login, self.known_hosts)


@pytest.fixture(scope="module")
def teams(
    practice_lab: tuple[Lab, list[LabHost]],
    catalog: Catalog,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[list[Team]]:
    """Two teams, partners of each other, each after the Postfix lesson's commands."""
    _lab, hosts = practice_lab
    roster_teams = lab_teams(hosts)
    roster = Roster(Path("lab-roster.toml"), "Lab", (), tuple(roster_teams))
    result = []
    for host, roster_team in zip(hosts, roster_teams, strict=True):
        directory = tmp_path_factory.mktemp(roster_team.name)
        known_hosts = pinned_known_hosts(directory / "ssh_known_hosts", host)
        values = team_variables(roster, roster_team)
        store = KnownHosts(directory / "known_hosts")
        store.pin_keys(host.address, host.port, host.host_keys)
        session = Session(
            roster_team.login,
            known_hosts=store,
            progress_store=ProgressStore(directory / "progress.json"),
            overrides=values,
            team=roster_team.name,
        )
        session.connect()
        result.append(Team(roster_team.name, host, session, values, known_hosts))
    postfix = catalog.get("postfix")
    assert postfix is not None
    try:
        # The two hosts are independent until they mail each other, so they install
        # side by side.
        def install_postfix(team: Team) -> None:
            for step in postfix.steps:
                if step.commands:
                    run_commands(team.session, postfix, step)

        side_by_side(install_postfix, result)
        yield result
    finally:
        for team in result:
            team.session.close()


def side_by_side(work: Callable[[Team], None], teams: list[Team]) -> None:
    """Do ``work`` for every team at the same time; re-raise the first failure."""
    with ThreadPoolExecutor(max_workers=len(teams)) as pool:
        for future in [pool.submit(work, team) for team in teams]:
            future.result()


def lesson(catalog: Catalog, lesson_id: str) -> Lesson:
    found = catalog.get(lesson_id)
    assert found is not None, f"no lesson {lesson_id}"
    return found


def read_results(session: Session, lesson: Lesson) -> tuple[CheckResult, CheckResult]:
    """Return the results of the read step's checks: mail arrived, mail read."""
    step = step_named(lesson, READ)
    arrived, read = session.check_step(lesson, step, allow_wait=False)
    assert "arrived" in arrived.check.title
    assert "read" in read.check.title
    return arrived, read


def send_with_mutt(team: Team, partner: Team) -> None:
    """Write to the partner in Mutt's screens, following the step's numbered list."""
    shell = team.shell()
    try:
        shell.press("mutt\r")
        shell.wait_for(r"Mail does not exist\. Create it\?")
        shell.press("\r")
        shell.wait_for(r"Mutt: /var/mail/")
        shell.press("m")
        shell.wait_for(r"(?m)^To:$")
        shell.press(f"{team.values['partner_user']}@{team.values['partner_domain']}\r")
        shell.wait_for(r"(?m)^Subject:$")
        shell.press(f"Hello from team {team.name}\r")
        shell.wait_for(r"GNU nano")
        shell.press(f"Greetings from {team.name} to {partner.name}.\r")
        shell.press("\x0f")  # Ctrl+O: write out
        shell.press("\r")
        shell.press("\x18")  # Ctrl+X: exit nano
        shell.wait_for(r"Mutt: Compose")
        shell.wait_for(rf"From: Team {team.name} <")
        shell.press("y")
        shell.wait_for(r"Mail sent\.")
        shell.press("q")
        shell.wait_prompt()
        shell.exit()
    finally:
        shell.close()


def read_with_mutt(team: Team, partner: Team) -> None:
    """Open the partner's mail in Mutt, look at its headers and quit with q twice."""
    shell = team.shell()
    try:
        shell.press("mutt\r")
        shell.wait_for(rf"Hello from team {partner.name}")
        # The partner's mail is the newest of two, at the bottom: one entry down.
        shell.press("j")
        shell.press("\r")
        shell.wait_for(rf"Greetings from {partner.name}")
        shell.press("h")
        shell.wait_for(r"Received: from")
        shell.press("q")
        shell.press("q")
        shell.wait_prompt()
        shell.exit()
    finally:
        shell.close()


def test_mail_between_teams(teams: list[Team], catalog: Catalog) -> None:
    between = lesson(catalog, "mail-between-teams")
    one, two = teams
    for team in teams:
        prove_step(
            team.session, between, step_named(between, "Install Mutt and tell it who you are")
        )
    for team in teams:
        assert_all_fail(team.session, between, step_named(between, SEND))

    # Team two's "arrived" check waits for team one's mail, not for team two's own work.
    arrived, _read = read_results(two.session, between)
    assert not arrived.passed, arrived.reason

    send_with_mutt(one, two)
    assert_all_pass(one.session, between, step_named(between, SEND))
    arrived, read = read_results(two.session, between)
    assert arrived.passed, arrived.reason
    assert not read.passed, read.reason
    assert "none opened yet" in read.reason
    arrived_at_one, _read = read_results(one.session, between)
    assert not arrived_at_one.passed, arrived_at_one.reason

    send_with_mutt(two, one)
    assert_all_pass(two.session, between, step_named(between, SEND))
    for team, partner in ((one, two), (two, one)):
        read_with_mutt(team, partner)
        assert_all_pass(team.session, between, step_named(between, READ))


def test_dovecot(teams: list[Team], catalog: Catalog) -> None:
    dovecot = lesson(catalog, "dovecot")

    def prove_dovecot(team: Team) -> None:
        prove_step(team.session, dovecot, step_named(dovecot, "Install Dovecot"))
        prove_step(
            team.session, dovecot, step_named(dovecot, "Fetch your mail as a mail client does")
        )

    side_by_side(prove_dovecot, teams)

    one = teams[0]
    shell = one.shell()
    try:
        # The step's curl command, with the password typed at curl's prompt.
        shell.press(
            f"curl --insecure --ssl-reqd imap://localhost/INBOX -u {one.host.user} "
            "-X 'EXAMINE INBOX'\r"
        )
        shell.wait_for(rf"Enter host password for user '{one.host.user}':")
        shell.press(one.host.user_password + "\r")
        shell.wait_for(r"\* \d+ EXISTS")
        shell.wait_prompt()
        assert one.host.user_password not in shell.text()

        # What "Why clients must use TLS" shows: the partner refuses plaintext logins
        # from another machine, while this server takes them from itself.
        shell.type_line(
            f"curl -v imap://{one.values['partner_domain']}/ -u nobody:wrong 2>&1 | tail -8"
        )
        remote = shell.text()
        assert "LOGINDISABLED" in remote
        assert "Login denied" in remote
        shell.type_line("clear")
        shell.type_line("curl -v imap://localhost/ -u nobody:wrong 2>&1 | grep CAPABILITY")
        assert "STARTTLS" in shell.text()
        assert "LOGINDISABLED" not in shell.text()
        shell.exit()
    finally:
        shell.close()
