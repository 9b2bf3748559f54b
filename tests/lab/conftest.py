"""A real practice lab for the ``lab`` tests, created once per session and always removed."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import pytest

from workshop_tui.lab import Lab

from .support import LAB_HOST_COUNT, LabSession, lab_skip_reason


@pytest.fixture(scope="session")
def lab_session() -> Iterator[LabSession]:
    reason = lab_skip_reason()
    if reason is not None:
        pytest.skip(reason)
    messages: list[str] = []
    lab = Lab(f"test-{secrets.token_hex(3)}", progress=messages.append)
    try:
        started = time.monotonic()
        hosts = lab.up(LAB_HOST_COUNT)
        yield LabSession(lab, hosts, time.monotonic() - started, messages)
    finally:
        lab.down()
