"""Reading what the app shows, and waiting for its workers, in Pilot tests."""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import RichLog, Static
from textual.worker import WorkerState

from workshop_tui.ui.app import WorkshopApp
from workshop_tui.ui.screens.step import StepScreen

_SVG_TEXT = re.compile(
    r'<text[^>]*\bx="([\d.]+)"[^>]*clip-path="url\(#[\w-]*-line-(\d+)\)"[^>]*>(.*?)</text>',
    re.DOTALL,
)
ScreenT = TypeVar("ScreenT", bound=Screen[Any])

CELL_WIDTH = 12.2
"""Width of one terminal cell in Textual's SVG screenshots, in SVG units."""


def screen_text(pilot: Pilot[None]) -> str:
    """Return the characters on the screen, row by row, as they are displayed."""
    width, height = pilot.app.size
    rows = [[" "] * width for _ in range(height)]
    for x, line, text in _SVG_TEXT.findall(pilot.app.export_screenshot()):
        column = round(float(x) / CELL_WIDTH)
        row = rows[int(line)]
        for offset, character in enumerate(html.unescape(text).replace("\xa0", " ")):
            if column + offset < width:
                row[column + offset] = character
    return "\n".join("".join(row).rstrip() for row in rows)


def phase_of(screen: object) -> str:
    """Return what the step screen is doing; a function, so mypy does not narrow the value."""
    assert isinstance(screen, StepScreen)
    return screen.phase


def log_text(log: RichLog) -> str:
    """Return the lines drawn in ``log``."""
    return "\n".join(line.text.rstrip() for line in log.lines)


def static_text(widget: Static) -> str:
    """Return the plain text that ``widget`` shows."""
    return str(widget.content)


async def settle(pilot: Pilot[None]) -> None:
    """Wait until no worker runs and the messages they posted are handled.

    A finished worker may start another (a run starts the checks), so this repeats until
    a pass finds nothing running.
    """
    app = pilot.app
    for _ in range(100):
        await app.workers.wait_for_complete()
        await pilot.pause()
        busy = [
            worker
            for worker in app.workers
            if worker.state in (WorkerState.PENDING, WorkerState.RUNNING)
        ]
        if not busy:
            await pilot.pause()
            return
    raise AssertionError(f"workers still running: {list(app.workers)}")


async def wait_for_screen(pilot: Pilot[None], kind: type[ScreenT]) -> ScreenT:
    """Wait until a screen of ``kind`` is in front, as a dialog that a worker waits on.

    ``settle`` cannot be used then, because the worker only ends once the dialog is answered.
    """
    for _ in range(500):
        screen = pilot.app.screen
        if isinstance(screen, kind):
            await pilot.pause()
            return screen
        await pilot.pause(0.01)
    raise AssertionError(f"no {kind.__name__} appeared; the screen is {pilot.app.screen!r}")


@contextlib.asynccontextmanager
async def open_step_screen(
    app: WorkshopApp, size: tuple[int, int] = (80, 24)
) -> AsyncIterator[tuple[Pilot[None], StepScreen]]:
    """Run ``app`` at ``size`` until its workers settle on the step screen."""
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StepScreen)
        yield pilot, screen
