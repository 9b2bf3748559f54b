"""The Postfix lesson on fresh lab hosts, through the product's own runner and checks."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from workshop_tui.core.lessons import Catalog
from workshop_tui.core.login import Login
from workshop_tui.core.session import OutputChunk, Session
from workshop_tui.lab import LabHost

from .conftest import login_for

pytestmark = pytest.mark.lab


@pytest.mark.parametrize("as_root", [False, True], ids=["sudo-user", "root"])
def test_each_check_fails_before_and_passes_after(
    lab_hosts: list[LabHost],
    catalog: Catalog,
    make_session: Callable[[Login], Session],
    as_root: bool,
) -> None:
    host = lab_hosts[1] if as_root else lab_hosts[0]
    session = make_session(login_for(host, as_root=as_root))
    session.connect()
    lesson = catalog.get("postfix")
    assert lesson is not None
    timings: list[str] = []
    try:
        for step in lesson.steps:
            if step.checks:
                before = session.check_step(lesson, step, allow_wait=False)
                timings.extend(f"  before: {result.reason}" for result in before)
                for result in before:
                    assert not result.passed, (
                        f"{step.title}: '{result.check.title}' passed before its step: "
                        f"{result.reason}"
                    )
            output: list[OutputChunk] = []
            if step.commands:
                report = session.run_step(lesson, step, on_output=output.append)
                text = "".join(chunk.text for chunk in output)
                assert report.succeeded, f"{step.title}: commands failed:\n{text}"
            started = time.monotonic()
            after = session.check_step(lesson, step)
            timings.append(f"{step.title}: {time.monotonic() - started:.2f} s")
            for result in after:
                assert result.passed, (
                    f"{step.title}: '{result.check.title}' failed after its step: "
                    f"{result.reason}\n{result.evidence}"
                )
            assert session.progress.step_state(lesson.id, step.id) == "passed"
    finally:
        session.close()
        print("\n".join(timings))
