"""The output panel: whole lines, partial lines, stderr marking, and floods of output."""

from __future__ import annotations

from textual.app import App, ComposeResult

from workshop_tui.core.session import OutputChunk
from workshop_tui.ui.widgets.output_log import (
    MAX_LINES,
    PARTIAL_LINE_TICKS,
    OutputBuffer,
    OutputLog,
    render_line,
)

from .helpers import log_text


class LogApp(App[None]):
    def compose(self) -> ComposeResult:
        yield OutputLog(OutputBuffer(), id="output")


def test_stderr_line_has_gutter() -> None:
    assert render_line("stderr", "warning").plain == "▌warning"
    assert render_line("stdout", "\x1b[1;32mok\x1b[0m").plain == "ok"
    assert render_line("stdout", "10%\r50%\r100%").plain == "100%"


async def test_log_joins_split_lines() -> None:
    app = LogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(OutputLog)
        log.buffer.add(OutputChunk("stdout", "Reading pack"))
        log.buffer.add(OutputChunk("stderr", "W: slow mirror\r\n"))
        log.buffer.add(OutputChunk("stdout", "age lists...\r\nDone\n"))
        log.flush()
        await pilot.pause()
        # Lines appear in the order they were completed.
        assert log_text(log).splitlines() == [
            "▌W: slow mirror",
            "Reading package lists...",
            "Done",
        ]


async def test_log_shows_waiting_prompt() -> None:
    app = LogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(OutputLog)
        log.buffer.add(OutputChunk("stdout", "Continue? [Y/n] "))
        for _ in range(PARTIAL_LINE_TICKS - 1):
            log.flush()
        await pilot.pause()
        assert log_text(log) == ""
        log.flush()
        await pilot.pause()
        assert log_text(log) == "Continue? [Y/n]"


async def test_log_flood_keeps_last_lines() -> None:
    app = LogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(OutputLog)
        for number in range(MAX_LINES + 500):
            log.buffer.add(OutputChunk("stdout", f"line {number}\n"))
        log.flush()
        await pilot.pause()
        lines = log_text(log).splitlines()
        assert len(lines) == MAX_LINES
        assert lines[-1] == f"line {MAX_LINES + 499}"


def test_buffer_drain_empties() -> None:
    buffer = OutputBuffer()
    buffer.add(OutputChunk("stdout", "a"))
    assert buffer.drain() == [OutputChunk("stdout", "a")]
    assert buffer.drain() == []
