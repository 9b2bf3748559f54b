"""The background writer of the progress file: coalescing, lost links, failures, closing."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator

import pytest

from workshop_tui.core.errors import ConnectionLost, RemoteError
from workshop_tui.core.progress import ServerProgress
from workshop_tui.core.progress_sync import SharedProgressWriter

WAIT_SECONDS = 10
"""Maximum wait for the writer thread; a test that reaches it fails instead of hanging."""


class Uploads:
    """Records what the writer uploads. Uploads wait for ``gate``, which is open unless a
    test clears it."""

    def __init__(self) -> None:
        self.documents: list[dict[str, object]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.started = threading.Event()
        self.failures: list[Exception] = []

    def __call__(self, data: bytes) -> None:
        self.started.set()
        assert self.gate.wait(WAIT_SECONDS), "the test did not open the gate"
        if self.failures:
            raise self.failures.pop(0)
        self.documents.append(json.loads(data))

    @property
    def lessons(self) -> list[object]:
        return [document["current_lesson"] for document in self.documents]


@pytest.fixture
def uploads() -> Uploads:
    return Uploads()


@pytest.fixture
def writer(uploads: Uploads) -> Iterator[SharedProgressWriter]:
    writer = SharedProgressWriter("learner@10.0.0.5", uploads)
    yield writer
    writer.close(timeout=WAIT_SECONDS)


def at(lesson: str) -> ServerProgress:
    return ServerProgress(current_lesson=lesson)


def test_nothing_written_before_resume(writer: SharedProgressWriter, uploads: Uploads) -> None:
    writer.schedule(at("one"), team=None)
    assert writer.wait_until_idle(WAIT_SECONDS)
    assert uploads.documents == []
    assert writer.pending


def test_writes_after_resume(writer: SharedProgressWriter, uploads: Uploads) -> None:
    writer.schedule(at("one"), team="team-1")
    writer.resume()
    assert writer.wait_until_idle(WAIT_SECONDS)
    assert uploads.lessons == ["one"]
    assert uploads.documents[0]["team"] == "team-1"
    assert not writer.pending


def test_burst_coalesces(writer: SharedProgressWriter, uploads: Uploads) -> None:
    writer.resume()
    uploads.gate.clear()
    for number in range(10):
        writer.schedule(at(f"state-{number}"), team=None)
    uploads.gate.set()
    assert writer.wait_until_idle(WAIT_SECONDS)
    assert len(uploads.documents) in (1, 2)
    assert uploads.lessons[-1] == "state-9"


def test_schedule_never_waits_for_upload(writer: SharedProgressWriter, uploads: Uploads) -> None:
    writer.resume()
    uploads.gate.clear()
    writer.schedule(at("first"), team=None)
    assert uploads.started.wait(WAIT_SECONDS)
    # The thread is inside the upload now, and scheduling still returns at once.
    scheduler = threading.Thread(
        target=writer.schedule, args=(at("second"),), kwargs={"team": None}
    )
    scheduler.start()
    scheduler.join(WAIT_SECONDS)
    assert not scheduler.is_alive()
    uploads.gate.set()
    assert writer.wait_until_idle(WAIT_SECONDS)
    assert uploads.lessons == ["first", "second"]


def test_snapshot_taken_at_schedule(writer: SharedProgressWriter, uploads: Uploads) -> None:
    progress = at("before")
    writer.schedule(progress, team=None)
    progress.current_lesson = "after"
    writer.resume()
    assert writer.wait_until_idle(WAIT_SECONDS)
    assert uploads.lessons == ["before"]


def test_lost_link_waits_for_resume(writer: SharedProgressWriter, uploads: Uploads) -> None:
    uploads.failures.append(ConnectionLost("The connection to 10.0.0.5 was lost."))
    writer.resume()
    writer.schedule(at("one"), team=None)
    assert writer.wait_until_idle(WAIT_SECONDS)
    assert uploads.documents == []
    assert writer.pending

    # A change while offline replaces the kept state, and is written after reconnecting.
    writer.schedule(at("two"), team=None)
    assert writer.wait_until_idle(WAIT_SECONDS)
    assert uploads.documents == []
    writer.resume()
    assert writer.wait_until_idle(WAIT_SECONDS)
    assert uploads.lessons == ["two"]


def test_failure_retried_on_change(writer: SharedProgressWriter, uploads: Uploads) -> None:
    uploads.failures.append(RemoteError("writing ~/.workshop-tui/progress.json failed"))
    writer.resume()
    writer.schedule(at("one"), team=None)
    assert writer.wait_until_idle(WAIT_SECONDS)
    assert uploads.documents == []
    assert writer.pending
    writer.schedule(at("two"), team=None)
    assert writer.wait_until_idle(WAIT_SECONDS)
    assert uploads.lessons == ["two"]


def test_repeated_failure_logged_once(
    writer: SharedProgressWriter, uploads: Uploads, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="workshop_tui.core.progress_sync")
    for _ in range(3):
        uploads.failures.append(RemoteError("disk full on 10.0.0.5"))
    writer.resume()
    for number in range(3):
        writer.schedule(at(f"state-{number}"), team=None)
        assert writer.wait_until_idle(WAIT_SECONDS)
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1
    assert "learner@10.0.0.5" in warnings[0]
    assert "disk full on 10.0.0.5" in warnings[0]


def test_unexpected_error_keeps_thread(
    writer: SharedProgressWriter, uploads: Uploads, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="workshop_tui.core.progress_sync")
    uploads.failures.append(KeyError("Slip-Secret-42"))
    writer.resume()
    writer.schedule(at("one"), team=None)
    assert writer.wait_until_idle(WAIT_SECONDS)
    writer.schedule(at("two"), team=None)
    assert writer.wait_until_idle(WAIT_SECONDS)
    assert uploads.lessons == ["two"]
    assert "KeyError" in caplog.text
    assert "Slip-Secret-42" not in caplog.text


def test_close_writes_pending(uploads: Uploads) -> None:
    writer = SharedProgressWriter("learner@10.0.0.5", uploads, coalesce_seconds=60)
    writer.resume()
    writer.schedule(at("last"), team=None)
    writer.close(timeout=WAIT_SECONDS)
    assert uploads.lessons == ["last"]
    assert not writer.pending


def test_close_stops_thread(writer: SharedProgressWriter, uploads: Uploads) -> None:
    writer.schedule(at("one"), team=None)
    # Other tests' sessions may run writers for the same login, so compare by identity.
    thread = writer._thread
    writer.close(timeout=WAIT_SECONDS)
    assert thread is None or not thread.is_alive()
    # Without a connection the state stays pending, so nothing is written after closing.
    writer.schedule(at("two"), team=None)
    assert writer.wait_until_idle(WAIT_SECONDS)
    assert uploads.documents == []
