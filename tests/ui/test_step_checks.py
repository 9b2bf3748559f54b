"""Checking a step: before its commands ran, the step hint on request, and check details."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Collapsible, Static

from workshop_tui.core.checks import CheckResult
from workshop_tui.core.lessons import Catalog, Step, load_catalog
from workshop_tui.ui.widgets.checks_panel import ChecksPanel

from .conftest import AppMaker
from .fakes import FakeSession, first_fails
from .helpers import open_step_screen, screen_text, settle
from .test_step_screen import start_at
from .test_step_stop import status_of

LONG_HINT_LESSON = """\
---
id: mail-server
title: Mail server
summary: Install a mail server.
---

## Install it

```sh run root
apt-get install -y postfix
```

```check package
package: postfix
```

```check unit
unit: postfix@-
```

```check smtp
port: 25
banner: ESMTP Postfix
```

### Hint

If the install stops with "Could not get lock /var/lib/dpkg/lock", another
installation is still running, often an automatic update. Wait a minute and press
Run again.

If apt says that dpkg was interrupted, an earlier installation was stopped half-way.
Open the terminal and run the command that finishes it, then press Run again.

The last line of this hint.
"""


def long_hint_catalog(directory: Path) -> Catalog:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "10-mail-server.md").write_text(LONG_HINT_LESSON, encoding="utf-8")
    return load_catalog([directory])


def footer_of(text: str) -> str:
    return text.splitlines()[-1]


async def test_check_before_run_does_not_wait(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.check_outcomes.append(first_fails)
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        await pilot.press("c")
        await settle(pilot)
        assert session.check_waits == [False]
        assert status_of(screen) == (
            "✖ 1 of 2 checks failed. This step's commands have not run yet, so press r to "
            "run them first."
        )

        # After the run, the checks may wait for the commands' effects again.
        await pilot.press("r")
        await settle(pilot)
        assert session.check_waits == [False, True]


async def test_failed_check_after_run_advice(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.check_outcomes.extend([first_fails, first_fails])
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        await pilot.press("r")
        await settle(pilot)
        assert status_of(screen) == (
            "✖ 1 of 2 checks failed. Read why below, fix it and press c to check again."
        )


async def test_check_only_step_may_wait(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "say-hello")
    app = make_app()
    async with open_step_screen(app) as (pilot, _screen):
        await pilot.press("c")
        await settle(pilot)
        assert session.check_waits == [True]


async def test_hint_scrolled_into_view(
    make_app: AppMaker, session: FakeSession, tmp_path: Path
) -> None:
    session.progress.current_lesson = "mail-server"
    app = make_app(lessons=long_hint_catalog(tmp_path / "long-hint"))
    async with open_step_screen(app, size=(160, 45)) as (pilot, _screen):
        await pilot.press("h")
        await settle(pilot)
        text = screen_text(pilot)
        assert "Hint for this step" in text
        assert "If the install stops with" in text
        assert "The last line of this hint." in text


async def test_hint_scrolled_at_80x24(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    app = make_app()
    async with open_step_screen(app) as (pilot, _screen):
        await pilot.press("h")
        await settle(pilot)
        text = screen_text(pilot)
        assert "Hint for this step" in text
        assert "journalctl -u postfix@- shows what Postfix said" in text


def all_fail_with_evidence(step: Step) -> list[CheckResult]:
    return [
        CheckResult(check, False, "not as expected", evidence=f"evidence of check {number}")
        for number, check in enumerate(step.checks, start=1)
    ]


async def test_details_key_opens_evidence(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.check_outcomes.append(all_fail_with_evidence)
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        assert "e Details" not in footer_of(screen_text(pilot))
        await pilot.press("c")
        await settle(pilot)
        footer = footer_of(screen_text(pilot))
        assert footer == (
            "r Run c Check n Next h Hint e Details s Solution t Terminal v Output esc Lessons"
        )
        assert len(footer) <= 80
        assert "What the server printed (e)" in screen_text(pilot)
        sections = list(screen.query_one("#checks", ChecksPanel).query(Collapsible))
        assert [section.collapsed for section in sections] == [True, True]

        await pilot.press("e")
        await settle(pilot)
        assert [section.collapsed for section in sections] == [False, False]
        assert "evidence of check 1" in screen_text(pilot)

        await pilot.press("e")
        await settle(pilot)
        assert [section.collapsed for section in sections] == [True, True]


async def test_details_from_output_panel(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.check_outcomes.append(all_fail_with_evidence)
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("v")
        await pilot.pause()
        assert not screen.query_one("#checks", ChecksPanel).display
        await pilot.press("e")
        await settle(pilot)
        assert screen.query_one("#checks", ChecksPanel).display
        assert "evidence of check 1" in screen_text(pilot)


async def test_prev_works_without_footer(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.check_outcomes.append(all_fail_with_evidence)
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        await pilot.press("c")
        await settle(pilot)
        assert "p Prev" not in footer_of(screen_text(pilot))
        await pilot.press("p")
        await settle(pilot)
        assert screen.index == 0


async def test_details_footer_with_quit(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.check_outcomes.append(all_fail_with_evidence)
    app = make_app()
    async with open_step_screen(app, size=(90, 24)) as (pilot, _screen):
        await pilot.press("c")
        await settle(pilot)
        footer = footer_of(screen_text(pilot))
        assert footer == (
            "r Run c Check n Next h Hint e Details s Solution t Terminal v Output esc Lessons "
            "^q Quit"
        )


async def test_details_and_prev_when_wide(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.check_outcomes.append(all_fail_with_evidence)
    app = make_app()
    async with open_step_screen(app, size=(160, 45)) as (pilot, _screen):
        await pilot.press("c")
        await settle(pilot)
        footer = footer_of(screen_text(pilot))
        assert "p Prev" in footer
        assert "e Details" in footer


async def test_no_details_without_evidence(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        await pilot.press("c")
        await settle(pilot)
        assert "e Details" not in footer_of(screen_text(pilot))
        assert not screen.query_one("#checks", ChecksPanel).query(Collapsible)
        assert not screen.query(Static).filter(".evidence")
