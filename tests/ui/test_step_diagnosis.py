"""Findings of the diagnosis under failed checks in the checks panel."""

from __future__ import annotations

from textual.widgets import Markdown

from workshop_tui.core.diagnosis import Finding
from workshop_tui.core.errors import SudoFailed
from workshop_tui.ui.screens.step import StepScreen

from .conftest import AppMaker
from .fakes import PASSWORD, FakeSession, first_fails
from .helpers import open_step_screen, screen_text, settle
from .test_step_screen import start_at
from .test_step_stop import status_of

LOOP_LINE = (
    "2026-12-05T03:16:45+0000 alpha postfix/smtp[5119]: 8EC47260912: to=<root@alpha.lab.test>, "
    "relay=none, dsn=5.4.6, status=bounced (mail for alpha.lab.test loops back to myself)"
)

LOOP_FINDING = Finding(
    "mail-loops-back",
    "Postfix bounced mail for `alpha.lab.test`: add it to `mydestination`.",
    (LOOP_LINE,),
)


def findings_of(screen: StepScreen) -> Markdown:
    return screen.query_one("#findings", Markdown)


async def test_findings_under_failed_checks(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.check_outcomes.append(first_fails)
    session.findings = [LOOP_FINDING]
    app = make_app()
    async with open_step_screen(app, size=(160, 50)) as (pilot, screen):
        await pilot.press("c")
        await settle(pilot)
        assert len(session.diagnosed) == 1
        assert not session.diagnosed[0][0].passed
        findings = findings_of(screen)
        assert findings.display
        assert "loops back to myself" in findings.source
        assert "> `" + LOOP_LINE + "`" in findings.source
        text = screen_text(pilot)
        assert "What the server's logs and settings suggest" in text
        assert "(mail-loops-back)" in text
        assert status_of(screen).startswith("✖ 1 of 2 checks failed.")


async def test_no_diagnosis_when_all_pass(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.findings = [LOOP_FINDING]
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        await pilot.press("c")
        await settle(pilot)
        assert session.diagnosed == []
        assert not findings_of(screen).display


async def test_findings_cleared_by_next_check(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.check_outcomes.append(first_fails)
    session.findings = [LOOP_FINDING]
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        await pilot.press("c")
        await settle(pilot)
        assert findings_of(screen).display
        await pilot.press("c")
        await settle(pilot)
        assert not findings_of(screen).display


async def test_sudo_refusal_adds_nothing(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.check_outcomes.append(first_fails)
    session.findings = [LOOP_FINDING]
    session.diagnose_outcome = SudoFailed("sudo refused the password of learner")
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        await pilot.press("c")
        await settle(pilot)
        assert len(session.diagnosed) == 1
        assert not findings_of(screen).display
        assert status_of(screen).startswith("✖ 1 of 2 checks failed.")


async def test_findings_hide_the_password(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.check_outcomes.append(first_fails)
    session.findings = [
        Finding("mail-log-missing", "No mail.log.", (f"echo {PASSWORD} | cat /var/log/mail.log",))
    ]
    app = make_app()
    async with open_step_screen(app, size=(160, 50)) as (pilot, screen):
        await pilot.press("c")
        await settle(pilot)
        assert "cat /var/log/mail.log" in findings_of(screen).source
        assert PASSWORD not in findings_of(screen).source
        assert PASSWORD not in screen_text(pilot)


async def test_long_evidence_line_wraps(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.check_outcomes.append(first_fails)
    session.findings = [LOOP_FINDING]
    app = make_app()
    async with open_step_screen(app, size=(100, 50)) as (pilot, _screen):
        await pilot.press("c")
        await settle(pilot)
        text = " ".join(screen_text(pilot).split())
        # The end of the journal line, which names the cause, is on screen too.
        assert "loops back to myself)" in text
