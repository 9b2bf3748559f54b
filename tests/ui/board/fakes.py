"""Lessons, a roster and scripted pollers for driving the board offline."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from workshop_tui.core.board.diagnosis import TeamDiagnosis
from workshop_tui.core.board.model import Reach, TeamSnapshot
from workshop_tui.core.checks import CheckResult
from workshop_tui.core.lessons import Catalog, Lesson, load_catalog
from workshop_tui.core.login import Login
from workshop_tui.core.progress import ServerProgress
from workshop_tui.core.roster import Roster, Team

PASSWORD = "Slip-Secret-42"
"""The teams' password; no screen may ever show it."""

NOW = 1_764_900_000.0
"""The board's fixed clock in these tests, in epoch seconds."""

INTERVAL = 60.0
"""Seconds between refreshes; long, so a test decides when a poller refreshes again."""

MAIL_LESSON = """\
---
id: mail-basics
title: Mail basics
summary: Postfix from the package to a first mail.
---

# Mail basics

## Read the plan

We install Postfix and send a mail.

## Install Postfix

```check package
package: postfix
title: The package postfix is installed
```

## Start Postfix

```check unit
unit: postfix@-
title: Postfix is running on {{ hostname }}
```

## Answer on port 25

```check smtp
port: 25
title: Postfix answers on port 25
```

## Set the mail name

```check command
run: postconf -h myhostname
title: Postfix calls itself {{ domain }}
```

## Send a mail

```check mailbox
subject: Hello
title: A mail for {{ user }} arrived
```

## Read the log

```check command
run: journalctl -u postfix@- -n 1
title: The log shows the delivery
```

## What you built

Postfix now delivers mail.
"""

SECOND_LESSON = """\
---
id: dovecot
title: Read mail with IMAP
summary: Dovecot serves the mailbox.
requires: [mail-basics]
---

# Read mail with IMAP

## Install Dovecot

```check package
package: dovecot-imapd
```

## Log in over IMAP

```check imap
port: 143
```
"""


def write_lessons(directory: Path) -> Catalog:
    """Write both lessons and load them, in workshop order."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "10-mail.md").write_text(MAIL_LESSON, encoding="utf-8")
    (directory / "20-dovecot.md").write_text(SECOND_LESSON, encoding="utf-8")
    return load_catalog([directory])


def make_roster(path: Path, count: int = 7) -> Roster:
    """Return a roster of ``count`` teams; team-1 and team-2 are partners."""
    teams = []
    for number in range(1, count + 1):
        partner = {1: "team-2", 2: "team-1"}.get(number)
        login = Login(host=f"10.77.0.{10 + number}", user=f"user{number}", password=PASSWORD)
        teams.append(Team(f"team-{number}", login, partner, (), line=4 * number))
    return Roster(path, "Mail server workshop", (), tuple(teams))


def snapshot(
    team: Team,
    lesson: Lesson,
    *,
    at: int,
    passed: Iterable[int] = (),
    failed: Mapping[int, str] | None = None,
    reach: Reach = "online",
    problem: str | None = None,
    polled_at: float | None = NOW - 2,
    step_since: float | None = NOW - 125,
    hand_raised_at: float | None = None,
    last_output: str = "",
    evidence: str = "",
) -> TeamSnapshot:
    """Return what a poller would read from a team at step index ``at`` of ``lesson``.

    Steps in ``passed`` passed; each step in ``failed`` failed its first check with
    that reason and ``evidence``.
    """
    progress = ServerProgress(
        current_lesson=lesson.id, step_since=step_since, hand_raised_at=hand_raised_at
    )
    saved = progress.lesson(lesson.id)
    saved.current_step = lesson.steps[at].id
    results: dict[str, tuple[CheckResult, ...]] = {}
    for index in passed:
        step = lesson.steps[index]
        saved.steps[step.id] = "passed"
        results[step.id] = tuple(CheckResult(check, True, "fine") for check in step.checks)
    for index, reason in (failed or {}).items():
        step = lesson.steps[index]
        saved.steps[step.id] = "failed"
        results[step.id] = (CheckResult(step.checks[0], False, reason, evidence),)
    return TeamSnapshot(
        team,
        reach=reach,
        problem=problem,
        progress=progress,
        written_at=polled_at,
        lesson_id=lesson.id,
        results=results,
        last_output=last_output,
        polled_at=polled_at,
    )


class FakeClock:
    """A clock whose time changes only when a test sets ``now``."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakePoller:
    """Returns scripted snapshots, one per refresh; the last one repeats.

    ``diagnose`` returns ``diagnosis`` and records the thread it ran in.
    """

    def __init__(self, team: Team, script: Sequence[TeamSnapshot] = ()) -> None:
        self.team = team
        self.snapshot = TeamSnapshot(team)
        self.script = deque(script)
        self.refreshes = 0
        self.closed = threading.Event()
        self.fail_with: Exception | None = None
        self.diagnosis: TeamDiagnosis | None = TeamDiagnosis(at=NOW)
        self.diagnose_fails_with: Exception | None = None
        self.diagnose_threads: list[str] = []

    @property
    def diagnoses(self) -> int:
        """How many times the board asked for a diagnosis."""
        return len(self.diagnose_threads)

    def diagnose(self) -> TeamDiagnosis | None:
        self.diagnose_threads.append(threading.current_thread().name)
        if self.diagnose_fails_with is not None:
            raise self.diagnose_fails_with
        return self.diagnosis

    def refresh(self) -> TeamSnapshot:
        self.refreshes += 1
        if self.fail_with is not None:
            raise self.fail_with
        if self.script:
            self.snapshot = self.script.popleft()
        return self.snapshot

    def close(self) -> None:
        self.closed.set()

    def add(self, *snapshots: TeamSnapshot) -> None:
        """Queue snapshots for the next refreshes."""
        self.script.extend(snapshots)
