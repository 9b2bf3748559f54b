"""Stopping a step's commands ends them on the VPS and lets the next Run start afresh."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from workshop_tui.core.lessons import parse_lesson
from workshop_tui.core.login import Login
from workshop_tui.core.session import OutputChunk, Session
from workshop_tui.lab import LabHost

from .conftest import login_for

pytestmark = pytest.mark.lab

LESSON = """\
---
id: slow
title: Slow
summary: A step that takes its time.
---

## Wait a while

```sh run root
echo started
sleep 120
echo finished
```

```check command
run: 'true'
```
"""


def test_stop_ends_run_and_next_run_is_new(
    lab_hosts: list[LabHost], make_session: Callable[[Login], Session], tmp_path: Path
) -> None:
    path = tmp_path / "slow.md"
    path.write_text(LESSON, encoding="utf-8")
    lesson = parse_lesson(path)
    step = lesson.steps[0]
    session = make_session(login_for(lab_hosts[0], as_root=False))
    session.connect()

    cancel = threading.Event()

    def stop_when_started(chunk: OutputChunk) -> None:
        if "started" in chunk.text:
            cancel.set()

    report = session.run_step(lesson, step, on_output=stop_when_started, cancel=cancel)
    assert report.stopped
    assert not session.unfinished_run(lesson, step)
    first = session.progress.lesson(lesson.id).run[step.id]
    assert first.exit_status in (143, 137)
    processes = session.connection.exec("pgrep -x sleep || true", timeout=30)
    assert processes.stdout.strip() == b""

    second_cancel = threading.Event()
    output: list[str] = []

    def collect(chunk: OutputChunk) -> None:
        output.append(chunk.text)
        if "started" in chunk.text:
            second_cancel.set()

    session.run_step(lesson, step, on_output=collect, cancel=second_cancel)
    second = session.progress.lesson(lesson.id).run[step.id]
    assert second.run_id != first.run_id
    assert "".join(output).count("started") == 1
    session.close()
