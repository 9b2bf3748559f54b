"""The panel that streams a step's command output, coloured and batched."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

from rich.style import Style
from rich.text import Text
from textual.widgets import RichLog

from workshop_tui.core.session import OutputChunk

Stream = Literal["stdout", "stderr"]

FLUSH_SECONDS = 0.05
"""How often buffered output is drawn; a flood of apt output costs one redraw per tick."""

PARTIAL_LINE_TICKS = 6
"""Ticks (of ``FLUSH_SECONDS``) after which a line without its newline is drawn anyway,
so a prompt such as ``Continue? [Y/n]`` shows up."""

MAX_LINES = 5000
"""Lines kept in the panel; older lines scroll away for good."""

STDERR_GUTTER = Text("▌", style=Style(color="red", bold=True))
STDERR_STYLE = Style(color="yellow")
NOTE_STYLE = Style(bold=True)


class OutputBuffer:
    """Chunks of output collected by a worker thread until the UI draws them.

    ``add`` is the only method that is called from a worker thread.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._chunks: list[OutputChunk] = []

    def add(self, chunk: OutputChunk) -> None:
        """Queue ``chunk``; safe to call from any thread."""
        with self._lock:
            self._chunks.append(chunk)

    def drain(self) -> list[OutputChunk]:
        """Take every queued chunk, oldest first."""
        with self._lock:
            chunks, self._chunks = self._chunks, []
        return chunks


@dataclass
class _PartialLine:
    text: str = ""
    idle_ticks: int = 0


def render_line(stream: Stream, line: str) -> Text:
    """Turn one line with ANSI colour codes into styled text; stderr gets a red gutter."""
    if stream == "stderr":
        return Text.assemble(STDERR_GUTTER, Text.from_ansi(line, style=STDERR_STYLE))
    return Text.from_ansi(line)


class OutputLog(RichLog):
    """A ``RichLog`` that draws whole lines from an :class:`OutputBuffer` every tick."""

    def __init__(self, buffer: OutputBuffer, *, id: str | None = None) -> None:
        super().__init__(
            max_lines=MAX_LINES, min_width=20, wrap=True, markup=False, highlight=False, id=id
        )
        self.buffer = buffer
        self._partial: dict[Stream, _PartialLine] = {
            "stdout": _PartialLine(),
            "stderr": _PartialLine(),
        }

    def on_mount(self) -> None:
        self.set_interval(FLUSH_SECONDS, self.flush)

    def flush(self, *, final: bool = False) -> None:
        """Draw the complete lines received so far; with ``final``, also unfinished lines."""
        pending: list[tuple[Stream, str]] = []
        received: set[Stream] = set()
        for chunk in self.buffer.drain():
            received.add(chunk.stream)
            partial = self._partial[chunk.stream]
            text = (partial.text + chunk.text).replace("\r\n", "\n")
            *complete, partial.text = text.split("\n")
            pending.extend((chunk.stream, line) for line in complete)
        for stream, partial in self._partial.items():
            partial.idle_ticks = 0 if stream in received else partial.idle_ticks + 1
            if partial.text and (final or partial.idle_ticks >= PARTIAL_LINE_TICKS):
                pending.append((stream, partial.text))
                partial.text = ""
        self._write_lines(pending)

    def _write_lines(self, lines: list[tuple[Stream, str]]) -> None:
        if not lines:
            return
        skipped = len(lines) - MAX_LINES
        if skipped > 0:
            lines = lines[skipped:]
            self.write_note(f"… {skipped} earlier lines are not shown")
        self.write(Text("\n").join(render_line(stream, line) for stream, line in lines))

    def write_note(self, text: str, style: Style = NOTE_STYLE) -> None:
        """Add a line from the app itself, such as where a run started or ended."""
        self.write(Text(text, style=style))

    def restart(self) -> None:
        """Forget all output, including queued chunks and unfinished lines."""
        self.buffer.drain()
        for partial in self._partial.values():
            partial.text = ""
            partial.idle_ticks = 0
        self.clear()
