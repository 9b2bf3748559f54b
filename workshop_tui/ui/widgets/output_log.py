"""The panel that streams a step's command output, coloured and batched."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Literal

from rich.style import Style
from rich.text import Text
from textual.events import Resize
from textual.widgets import RichLog

from workshop_tui.core.session import OutputChunk

Stream = Literal["stdout", "stderr"]

FLUSH_SECONDS = 0.05
"""How often buffered output is drawn; a flood of apt output costs one redraw per tick."""

PARTIAL_LINE_TICKS = 6
"""Ticks (of ``FLUSH_SECONDS``) after which a line without its newline is drawn anyway,
so a prompt such as ``Continue? [Y/n]`` shows up."""

MAX_LINES = 5000
"""Maximum lines in the panel and in each step's transcript. Older lines are dropped for good."""

STDERR_GUTTER = Text("▌", style=Style(color="red", bold=True))
STDERR_STYLE = Style(color="yellow")
NOTE_STYLE = Style(bold=True)
PLACEHOLDER_STYLE = Style(dim=True, italic=True)

Transcript = deque[Text]
"""Lines of a step's output as written, before wrapping, at most ``MAX_LINES`` of them."""


def new_transcript() -> Transcript:
    """Return an empty transcript that keeps the last ``MAX_LINES`` lines."""
    return deque(maxlen=MAX_LINES)


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


class ClosableFeed:
    """Passes chunks on to an :class:`OutputBuffer` until it is closed.

    Once :meth:`close` has returned, no chunk reaches the buffer any more, even from a
    worker thread that is still sending, so a cancelled job cannot mix its output into
    the next job's.
    """

    def __init__(self, buffer: OutputBuffer) -> None:
        self._buffer = buffer
        self._lock = threading.Lock()
        self._open = True

    def add(self, chunk: OutputChunk) -> None:
        """Queue ``chunk`` unless the feed is closed; safe to call from any thread."""
        with self._lock:
            if self._open:
                self._buffer.add(chunk)

    def close(self) -> None:
        """Drop every later chunk."""
        with self._lock:
            self._open = False


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
    """A ``RichLog`` that draws whole lines from an :class:`OutputBuffer` every tick.

    ``RichLog`` wraps a line once, at the width the log has when the line is written,
    and a hidden log has no width. So the log keeps its unwrapped lines in
    ``transcript`` and draws them again whenever its width differs from the width they
    were drawn at, as after a resize or after lines arrived while it was hidden.
    """

    def __init__(self, buffer: OutputBuffer, *, id: str | None = None) -> None:
        super().__init__(
            max_lines=MAX_LINES, min_width=20, wrap=True, markup=False, highlight=False, id=id
        )
        self.buffer = buffer
        self.transcript = new_transcript()
        self._partial: dict[Stream, _PartialLine] = {
            "stdout": _PartialLine(),
            "stderr": _PartialLine(),
        }
        self._drawn_width = 0
        """Width that every drawn line was wrapped at, or 0 when a redraw is due."""

    def on_mount(self) -> None:
        self.set_interval(FLUSH_SECONDS, self.flush)

    def on_resize(self, event: Resize) -> None:
        width = self.scrollable_content_region.width
        if width and width != self._drawn_width:
            self._redraw(width)

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
        self._append([render_line(stream, line) for stream, line in lines])

    def write_note(self, text: str, style: Style = NOTE_STYLE) -> None:
        """Add a line from the app itself, such as where a run started or ended."""
        self._append([Text(text, style=style)])

    def restart(self) -> None:
        """Forget all output, including queued chunks and unfinished lines.

        The old ``transcript`` object is left as it is, so a caller that keeps it keeps
        the output of the step that ran.
        """
        self.show_transcript(new_transcript())

    def show_transcript(self, transcript: Transcript) -> None:
        """Drop queued and unfinished output, show ``transcript`` and add to it from now on."""
        self.buffer.drain()
        for partial in self._partial.values():
            partial.text = ""
            partial.idle_ticks = 0
        self.transcript = transcript
        self._redraw(self.scrollable_content_region.width)

    def _append(self, lines: list[Text]) -> None:
        self.transcript.extend(lines)
        width = self.scrollable_content_region.width
        if width and width == self._drawn_width:
            self.write(Text("\n").join(lines))
        else:
            self._redraw(width)

    def _redraw(self, width: int) -> None:
        # NOTE: drawing a full transcript of MAX_LINES apt-like lines took about 0.6 s on
        # a 2-core x86_64 VM, so each resize of a full log blocks the UI that long.
        self.clear()
        self._drawn_width = width
        if width and self.transcript:
            self.write(Text("\n").join(self.transcript))
