"""A scripted stand-in for ``Session`` and a small lesson catalog, for driving the UI offline."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from workshop_tui.core.checks import CheckResult
from workshop_tui.core.diagnosis import Finding
from workshop_tui.core.errors import ConnectionLost, HostKeyNotTrusted
from workshop_tui.core.lessons import Catalog, Lesson, Step, load_catalog
from workshop_tui.core.login import HostKeyInfo, Login
from workshop_tui.core.progress import RunRecord, ServerProgress, StepState
from workshop_tui.core.remote import NewKeyConfirmation
from workshop_tui.core.session import ConnectReport, HostFacts, OutputChunk, RunReport

PASSWORD = "Slip-Secret-42"
"""The practice password; no screen may ever show it."""

GATE_SECONDS = 10
"""Maximum wait of the fake, in seconds, for a gate that a test opens."""

FINGERPRINT = "SHA256:n4Kx1Q2bTw3yQp0ZkR7s9Xy8aB6cD5eF4gH3iJ2kL1m"

STOPPED_STATUS = 143
"""Exit status that the fake records for stopped commands, as a shell killed by SIGTERM has."""

HELLO_LESSON = """\
---
id: hello-postfix
title: Hello, Postfix
summary: Install Postfix and see it answer on port 25.
---

# Hello, Postfix

This lesson installs Postfix on {{ hostname }}.

## Read the plan

We install Postfix, then check that it answers.

## Install Postfix

Install the package:

```sh run root
apt-get install -y postfix
```

```check package
package: postfix
hint: If apt says "Unable to locate package", run `apt-get update` first.
```

```check unit
unit: postfix@-
title: The Postfix mail system is running
```

### Hint

`journalctl -u postfix@-` shows what Postfix said when it started.

### Solution

```sh
sudo apt-get install postfix
```

## Say hello

Postfix greets every client with a line that starts with `220`.

```check smtp
port: 25
banner: ESMTP Postfix
```
"""

SEND_LESSON = """\
---
id: send-mail
title: Send a mail
summary: Send a first message to yourself.
requires: [hello-postfix]
---

# Send a mail

## Send it

```sh run
echo hello | mail -s "First mail" {{ user }}
```

```check mailbox
subject: First mail
```
"""


LONG_TITLES_LESSON = """\
---
id: postfix-server
title: Postfix, your own mail server
summary: Set up Postfix step by step.
---

# Postfix, your own mail server

## Answer the installer's questions in advance

```sh run root
echo postfix postfix/main_mailer_type select 'Internet Site' | debconf-set-selections
```

```check package
package: debconf
```

## What you built

Postfix now accepts mail for your domain.
"""
"""A lesson with titles as long as real ones, whose last step is only read."""


def write_long_titles_catalog(directory: Path) -> Catalog:
    """Write the lesson with long titles and load it as the only lesson."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "10-postfix-server.md").write_text(LONG_TITLES_LESSON, encoding="utf-8")
    return load_catalog([directory])


def write_catalog(directory: Path) -> Catalog:
    """Write the two test lessons in the real lesson format and load them."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "10-hello-postfix.md").write_text(HELLO_LESSON, encoding="utf-8")
    (directory / "20-send-mail.md").write_text(SEND_LESSON, encoding="utf-8")
    return load_catalog([directory])


def make_login(password: str | None = PASSWORD) -> Login:
    """Return the slip login of the test server."""
    return Login(host="203.0.113.10", user="root", port=22, password=password)


def connect_report(first_use: bool = False) -> ConnectReport:
    """Return a successful login report."""
    return ConnectReport(
        host_key=HostKeyInfo(key_type="ssh-ed25519", fingerprint=FINGERPRINT, first_use=first_use),
        facts=HostFacts(hostname="vps1", fqdn="vps1.example.test", is_root=True, home="/root"),
    )


@dataclass
class RunPlan:
    """What one step's commands print and how they end.

    With ``lose_link_after`` set, the first call raises ``ConnectionLost`` after that many
    chunks. The next call sends only the remaining chunks, as the core does for a run
    that kept going on the server.
    """

    chunks: list[OutputChunk]
    report: RunReport = field(default_factory=lambda: RunReport(exit_status=0))
    lose_link_after: int | None = None
    sent: int = 0


@dataclass
class FakeSession:
    """Has the public surface of ``Session``; scripted, recording, and without network."""

    login: Login
    progress: ServerProgress = field(default_factory=ServerProgress)
    progress_warning: str | None = None
    connect_outcomes: deque[ConnectReport | BaseException] = field(default_factory=deque)
    """Outcomes of successive connect() calls; a success once the queue is empty."""

    first_use: bool = False
    """Whether the host key is unknown. Then connect() calls ``confirm_new_key`` first and
    raises ``HostKeyNotTrusted`` when it returns False, like the core. After a successful
    login the key counts as known; after a failed one it stays unknown."""

    key_answers: list[bool] = field(default_factory=list)
    """What ``confirm_new_key`` returned, one entry per question."""

    replays: dict[str, list[OutputChunk]] = field(default_factory=dict)
    """Output that replay_output sends, by step id, for a step whose last run finished."""

    replay_gate: threading.Event | None = None
    """When set, replay_output waits for this event (at most ``GATE_SECONDS``) after the
    first chunk, so a test can act while a replay is in progress."""

    check_waits: list[bool] = field(default_factory=list)
    """The ``allow_wait`` argument of each check_step() call."""

    run_plans: dict[str, RunPlan] = field(default_factory=dict)
    """Run plans by step id; a step without one prints nothing and succeeds."""

    check_outcomes: deque[Callable[[Step], list[CheckResult]] | BaseException] = field(
        default_factory=deque
    )
    """Outcomes of successive check_step() calls; all checks pass once the queue is empty."""

    run_gate: threading.Event | None = None
    """When set, run_step waits for this event (or the cancel event) before it returns.

    After ``GATE_SECONDS`` it raises instead, so a test that fails before it opens the
    gate ends rather than waiting for the worker thread forever.
    """

    stop_gate: threading.Event | None = None
    """When set, a cancelled run_step waits for this event before it reports the stop,
    as the core does while it ends the commands on the server."""

    reconnect_gate: threading.Event | None = None
    """When set, every connect() after the first waits for this event (at most 5 s)."""

    calls: list[str] = field(default_factory=list)
    """Method calls as ``name`` or ``name:step-id``, in order."""

    findings: list[Finding] = field(default_factory=list)
    """What diagnose() returns after failed checks."""

    diagnose_outcome: BaseException | None = None
    """When set, diagnose() raises it, as the core does when sudo refuses."""

    diagnosed: list[list[CheckResult]] = field(default_factory=list)
    """The results that each diagnose() call was given."""

    link_open: bool = True
    """Whether the connection is open. A test sets it False to break the link while
    nothing runs. Runs, checks and replays then raise ``ConnectionLost``, as the core's
    do, until a successful connect() sets it True again."""

    def connect(self, confirm_new_key: NewKeyConfirmation | None = None) -> ConnectReport:
        if self.reconnect_gate is not None and "connect" in self.calls:
            self.reconnect_gate.wait(5)
        self.calls.append("connect")
        first_use = self.first_use
        if first_use and confirm_new_key is not None:
            trusted = confirm_new_key(connect_report(first_use=True).host_key)
            self.key_answers.append(trusted)
            if not trusted:
                raise HostKeyNotTrusted(
                    "You did not trust the key of 203.0.113.10, so the app did not log in."
                )
        outcome = (
            self.connect_outcomes.popleft()
            if self.connect_outcomes
            else connect_report(first_use=first_use)
        )
        if isinstance(outcome, BaseException):
            raise outcome
        self.first_use = False
        self.link_open = True
        return outcome

    def _require_link(self) -> None:
        if not self.link_open:
            raise ConnectionLost("The connection to 203.0.113.10 was lost.")

    def close(self) -> None:
        self.calls.append("close")

    def values(self, lesson: Lesson | None = None) -> dict[str, str]:
        return {
            "user": self.login.user,
            "host": self.login.host,
            "port": str(self.login.port),
            "hostname": "vps1",
            "fqdn": "vps1.example.test",
            "domain": "vps1.example.test",
        }

    def run_step(
        self,
        lesson: Lesson,
        step: Step,
        *,
        on_output: Callable[[OutputChunk], None],
        cancel: threading.Event | None = None,
    ) -> RunReport:
        self.calls.append(f"run_step:{step.id}")
        self._require_link()
        plan = self.run_plans.get(step.id, RunPlan(chunks=[]))
        cancel = cancel or threading.Event()
        record = self.last_run(lesson, step)
        if record is None or record.exit_status is not None:
            record = RunRecord(run_id=f"run-{len(self.calls)}", remote_dir="/fake", block=0)
            self.progress.lesson(lesson.id).run[step.id] = record
        while plan.sent < len(plan.chunks):
            if plan.lose_link_after is not None and plan.sent == plan.lose_link_after:
                plan.lose_link_after = None
                raise ConnectionLost("the connection to 203.0.113.10 dropped")
            on_output(plan.chunks[plan.sent])
            plan.sent += 1
        if self.run_gate is not None:
            deadline = time.monotonic() + GATE_SECONDS
            while not self.run_gate.wait(0.01):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"run_gate was not opened within {GATE_SECONDS} s")
                if cancel.is_set():
                    if self.stop_gate is not None:
                        self.stop_gate.wait(GATE_SECONDS)
                    self.set_step_state(lesson, step, "ran")
                    record.exit_status = STOPPED_STATUS
                    return RunReport(exit_status=None, failed_block=0, stopped=True)
        self.set_step_state(lesson, step, "ran")
        report = plan.report
        record.exit_status = STOPPED_STATUS if report.stopped else report.exit_status
        record.block = report.failed_block or 0
        return report

    def last_run(self, lesson: Lesson, step: Step) -> RunRecord | None:
        return self.progress.lesson(lesson.id).run.get(step.id)

    def replay_output(
        self, lesson: Lesson, step: Step, *, on_output: Callable[[OutputChunk], None]
    ) -> RunRecord | None:
        self.calls.append(f"replay_output:{step.id}")
        record = self.last_run(lesson, step)
        if record is None or record.exit_status is None:
            return None
        self._require_link()
        gate = self.replay_gate
        for index, chunk in enumerate(self.replays.get(step.id, [])):
            if index == 1 and gate is not None and not gate.wait(GATE_SECONDS):
                raise TimeoutError(f"replay_gate was not opened within {GATE_SECONDS} s")
            on_output(chunk)
        return record

    def unfinished_run(self, lesson: Lesson, step: Step) -> bool:
        record = self.last_run(lesson, step)
        return record is not None and record.exit_status is None

    def check_step(
        self, lesson: Lesson, step: Step, *, allow_wait: bool = True
    ) -> list[CheckResult]:
        self.calls.append(f"check_step:{step.id}")
        self.check_waits.append(allow_wait)
        self._require_link()
        outcome = self.check_outcomes.popleft() if self.check_outcomes else all_pass
        if isinstance(outcome, BaseException):
            raise outcome
        results = outcome(step)
        passed = all(result.passed for result in results)
        self.set_step_state(lesson, step, "passed" if passed else "failed")
        position = self.progress.lessons.get(lesson.id)
        current = self.progress.current_lesson == lesson.id and (
            position is not None and position.current_step == step.id
        )
        if passed and current:
            self.progress.hand_raised_at = None
        return results

    def diagnose(self, lesson: Lesson, results: Sequence[CheckResult]) -> list[Finding]:
        self.diagnosed.append(list(results))
        if self.diagnose_outcome is not None:
            raise self.diagnose_outcome
        return list(self.findings)

    def set_position(self, lesson: Lesson, step: Step) -> None:
        self.calls.append(f"set_position:{step.id}")
        self.progress.current_lesson = lesson.id
        self.progress.lesson(lesson.id).current_step = step.id

    def set_step_state(self, lesson: Lesson, step: Step, state: StepState) -> None:
        self.calls.append(f"set_step_state:{step.id}:{state}")
        self.progress.lesson(lesson.id).steps[step.id] = state

    def set_hand_raised(self, raised: bool) -> None:
        self.calls.append(f"set_hand_raised:{raised}")
        if raised != (self.progress.hand_raised_at is not None):
            self.progress.hand_raised_at = time.time() if raised else None


def all_pass(step: Step) -> list[CheckResult]:
    """Check outcome: every check of ``step`` passes."""
    return [CheckResult(check, True, "as expected") for check in step.checks]


def first_fails(step: Step) -> list[CheckResult]:
    """Check outcome: the first check of ``step`` fails with evidence, the rest pass."""
    results = all_pass(step)
    results[0] = CheckResult(
        step.checks[0],
        False,
        "postfix is not installed (dpkg state: un)",
        evidence="dpkg-query: no packages found matching postfix",
    )
    return results
