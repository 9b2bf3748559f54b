"""Lesson summaries for the lesson list: counts, requirements and where to resume."""

from __future__ import annotations

from workshop_tui.core.lessons import Catalog
from workshop_tui.core.progress import ServerProgress
from workshop_tui.ui.progress_view import lesson_status, resume_index


def test_status_counts_passed_steps(catalog: Catalog) -> None:
    hello = catalog.get("hello-postfix")
    assert hello is not None
    progress = ServerProgress()
    progress.lesson("hello-postfix").steps.update(
        {"read-the-plan": "passed", "install-postfix": "ran"}
    )
    status = lesson_status(hello, catalog, progress)
    assert (status.passed, status.total) == (1, 3)
    assert not status.finished
    assert status.resume_index == 1


def test_status_lists_missing_requirements(catalog: Catalog) -> None:
    send = catalog.get("send-mail")
    assert send is not None
    progress = ServerProgress()
    assert lesson_status(send, catalog, progress).missing_requirements == ("Hello, Postfix",)
    for step_id in ("read-the-plan", "install-postfix", "say-hello"):
        progress.lesson("hello-postfix").steps[step_id] = "passed"
    assert lesson_status(send, catalog, progress).missing_requirements == ()


def test_resume_prefers_saved_step(catalog: Catalog) -> None:
    hello = catalog.get("hello-postfix")
    assert hello is not None
    progress = ServerProgress()
    assert resume_index(hello, progress) == 0
    progress.lesson("hello-postfix").current_step = "say-hello"
    assert resume_index(hello, progress) == 2
    progress.lesson("hello-postfix").current_step = "renamed-step"
    assert resume_index(hello, progress) == 0
