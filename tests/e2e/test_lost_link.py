"""A Wi-Fi drop in the middle of installing Postfix, through the attendee's session."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from workshop_tui.core.errors import ConnectionLost
from workshop_tui.core.lessons import Catalog
from workshop_tui.core.login import Login
from workshop_tui.core.session import OutputChunk, Session
from workshop_tui.lab import Lab, LabHost

from .conftest import login_for

pytestmark = pytest.mark.lab


def test_install_survives_lost_link(
    practice_lab: tuple[Lab, list[LabHost]],
    catalog: Catalog,
    make_session: Callable[[Login], Session],
) -> None:
    lab, hosts = practice_lab
    host = hosts[0]
    lesson = catalog.get("postfix")
    assert lesson is not None
    preseed, install = lesson.steps[1], lesson.steps[2]
    session = make_session(login_for(host, as_root=False))
    session.connect()
    assert session.run_step(lesson, preseed, on_output=lambda chunk: None).succeeded

    output: list[OutputChunk] = []
    started = threading.Event()

    def collect(chunk: OutputChunk) -> None:
        output.append(chunk)
        if "Unpacking" in chunk.text or "Selecting previously unselected" in chunk.text:
            started.set()

    failures: list[BaseException] = []

    def first_attempt() -> None:
        try:
            session.run_step(lesson, install, on_output=collect)
        except BaseException as error:  # handed to the test thread below
            failures.append(error)

    worker = threading.Thread(target=first_attempt)
    worker.start()
    assert started.wait(120), "apt never started to unpack packages"
    lab.set_link(host.name, False)
    cut_at = time.monotonic()
    worker.join(120)
    assert not worker.is_alive(), "the lost link was not noticed within 120 s"
    assert len(failures) == 1 and isinstance(failures[0], ConnectionLost), failures
    noticed_after = time.monotonic() - cut_at
    seen_before = "".join(chunk.text for chunk in output)
    assert session.unfinished_run(lesson, install)

    lab.set_link(host.name, True)
    session.connect()
    report = session.run_step(lesson, install, on_output=output.append)
    assert report.succeeded
    everything = "".join(chunk.text for chunk in output)
    assert everything.startswith(seen_before)
    # The install ran once and to its end: no part of apt's output came twice.
    assert everything.count("Setting up postfix") == 1
    assert everything.count("Reading package lists...") == 2  # update, then install

    results = session.check_step(lesson, install)
    assert all(result.passed for result in results), [r.reason for r in results]
    audit = session.connection.exec("dpkg --audit; dpkg -l postfix | tail -n 1", timeout=30)
    assert audit.stdout.decode().startswith("ii  postfix"), audit.stdout
    session.close()
    print(f"lost link noticed after {noticed_after:.1f} s")
