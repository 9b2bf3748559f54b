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
        await pilot.pause()
        log = app.query_one(OutputLog)
        # No await from here on, so the log's own flush timer cannot add a tick.
        log.buffer.add(OutputChunk("stdout", "Continue? [Y/n] "))
        log.flush()  # This flush receives the chunk, whose line has no newline yet.
        for _ in range(PARTIAL_LINE_TICKS - 1):
            log.flush()
        assert log_text(log) == ""
        log.flush()
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


async def test_hidden_log_draws_when_shown() -> None:
    app = LogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        log = app.query_one(OutputLog)
        log.display = False
        await pilot.pause()
        # A hidden log has no width, so RichLog alone would wrap this at its min_width of 20.
        log.write_note("This step has no commands for the app to run.")
        log.display = True
        await pilot.pause()
        assert log_text(log) == "This step has no commands for the app to run."


async def test_resize_wraps_lines_again() -> None:
    line = "Setting up postfix (3.7.11-0+deb12u1) ... done, and the service is enabled."
    app = LogApp()
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause()
        log = app.query_one(OutputLog)
        log.buffer.add(OutputChunk("stdout", line + "\n"))
        log.flush()
        assert log_text(log) == line

        await pilot.resize_terminal(50, 24)
        await pilot.pause()
        assert len(log_text(log).splitlines()) == 2
        assert log_text(log).replace("\n", " ").split() == line.split()

        await pilot.resize_terminal(100, 24)
        await pilot.pause()
        assert log_text(log) == line


async def test_show_transcript_replaces_lines() -> None:
    app = LogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        log = app.query_one(OutputLog)
        log.write_note("first step")
        first_transcript = log.transcript
        log.restart()
        assert log_text(log) == ""
        log.write_note("second step")
        log.show_transcript(first_transcript)
        assert log_text(log) == "first step"
        # Lines added later go to the transcript on screen.
        log.write_note("more")
        assert [text.plain for text in first_transcript] == ["first step", "more"]
