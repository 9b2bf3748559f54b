"""Measure what an attendee waits for: `workshop-tui --help` and Check on the Postfix step.

Run as root on a machine that can run the practice lab:

    .venv/bin/python bench/attendee_latency.py

It brings up one lab host, runs the Postfix lesson's steps up to "Install Postfix"
through the attendee session, then times Check on that step several times, and removes
the lab. All numbers come from this one run on this machine; they are not targets.
"""

from __future__ import annotations

import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workshop_tui.core.hostkeys import KnownHosts
from workshop_tui.core.lessons import load_catalog
from workshop_tui.core.login import Login
from workshop_tui.core.progress import ProgressStore
from workshop_tui.core.session import Session
from workshop_tui.lab import Lab

REPOSITORY = Path(__file__).resolve().parents[1]
RUNS = 10


def time_help() -> list[float]:
    command = [str(Path(sys.executable).with_name("workshop-tui")), "--help"]
    durations = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        durations.append(time.perf_counter() - started)
    return durations


def time_check(workdir: Path) -> list[float]:
    lab = Lab(f"bench-{secrets.token_hex(3)}")
    try:
        host = lab.up(1)[0]
        login = Login(host=host.address, user=host.user, password=host.user_password)
        session = Session(
            login,
            known_hosts=KnownHosts(workdir / "known_hosts"),
            progress_store=ProgressStore(workdir / "progress.json"),
        )
        session.connect()
        lesson = load_catalog([REPOSITORY / "lessons"]).get("postfix")
        assert lesson is not None
        install = next(step for step in lesson.steps if step.id == "install-postfix")
        for step in lesson.steps[: lesson.steps.index(install) + 1]:
            if step.commands:
                session.run_step(lesson, step, on_output=lambda chunk: None)
        durations = []
        for _ in range(RUNS):
            started = time.perf_counter()
            results = session.check_step(lesson, install)
            durations.append(time.perf_counter() - started)
            assert all(result.passed for result in results)
        session.close()
        return durations
    finally:
        lab.down()


def describe(name: str, durations: list[float]) -> str:
    return (
        f"{name}: median {statistics.median(durations) * 1000:.0f} ms, "
        f"min {min(durations) * 1000:.0f} ms, max {max(durations) * 1000:.0f} ms "
        f"({len(durations)} runs)"
    )


def main() -> None:
    print(describe("workshop-tui --help", time_help()))
    with tempfile.TemporaryDirectory() as workdir:
        check = time_check(Path(workdir))
    print(describe("Check on 'Install Postfix' (3 checks, one SMTP tunnel)", check))


if __name__ == "__main__":
    main()
