"""Drive a full-screen program in a pseudo-terminal and read its screen like a person would.

pexpect runs the program in a real pty; pyte turns its output (escape sequences and
all) into the text of a screen, so a test can wait for words to appear on it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence

import pexpect
import pyte


def words(text: str) -> str:
    """Return a pattern that matches ``text`` even where the screen wrapped it."""
    return r"\s+(?:█\s+)?".join(re.escape(word) for word in text.split())


class ScreenTimeout(AssertionError):
    """The expected text did not appear on the screen in time."""


class PtyScreen:
    """A program in a pty of ``columns`` x ``rows`` with an emulated screen."""

    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        *,
        columns: int = 100,
        rows: int = 30,
    ) -> None:
        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        self.child = pexpect.spawn(
            argv[0], list(argv[1:]), env=dict(env), dimensions=(rows, columns), timeout=5
        )

    def pump(self, seconds: float = 0.1) -> None:
        """Read whatever the program printed within ``seconds`` into the screen."""
        deadline = time.monotonic() + seconds
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                data = self.child.read_nonblocking(65536, timeout=remaining)
            except pexpect.TIMEOUT:
                return
            except pexpect.EOF:
                return
            self.raw.extend(data)
            self.stream.feed(data)

    def text(self) -> str:
        """Return the screen as lines of text."""
        return "\n".join(line.rstrip() for line in self.screen.display)

    def wait_for(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        """Wait until ``pattern`` (a regular expression) matches the screen text.

        Raises:
            ScreenTimeout: the pattern did not appear; the message shows the screen.
        """
        compiled = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            self.pump(0.2)
            match = compiled.search(self.text())
            if match:
                return match
            if time.monotonic() > deadline or not self.child.isalive():
                raise ScreenTimeout(
                    f"'{pattern}' did not appear within {timeout:g} s. Screen:\n{self.text()}"
                )

    def press(self, keys: str) -> None:
        """Send keys as typed; ``\\r`` is Enter."""
        self.child.send(keys)
        self.pump(0.2)

    def close(self) -> None:
        """End the program if it still runs."""
        if self.child.isalive():
            self.child.terminate(force=True)
