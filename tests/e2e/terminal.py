"""Drive a full-screen program in a pseudo-terminal and read its screen like a person would.

pexpect runs the program in a real pty; pyte turns its output (escape sequences and
all) into the text of a screen, so a test can wait for words to appear on it.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Mapping, Sequence

import pexpect
import pyte


def words(text: str) -> str:
    """Return a pattern that matches ``text`` even where the screen wrapped it."""
    return r"\s+(?:█\s+)?".join(re.escape(word) for word in text.split())


def host_key_fingerprints(host_keys: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Return ``SHA256:…`` fingerprints, as OpenSSH prints them, by key type.

    ``host_keys`` are (key type, base64 public key) pairs, as a lab host lists them.
    """
    fingerprints: dict[str, str] = {}
    for key_type, key in host_keys:
        digest = hashlib.sha256(base64.b64decode(key)).digest()
        fingerprints[key_type] = "SHA256:" + base64.b64encode(digest).decode().rstrip("=")
    return fingerprints


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

    def confirm_new_host_key(self, host_keys: Sequence[tuple[str, str]]) -> str:
        """Wait for the question about a new server's key, check it, and trust the key.

        The fingerprint on screen must be the one of the host's key of the type shown.
        Returns that fingerprint.
        """
        fingerprint = self.wait_for_new_host_key(host_keys)
        self.press("\r")  # "Trust and connect" has the focus.
        return fingerprint

    def wait_for_new_host_key(self, host_keys: Sequence[tuple[str, str]]) -> str:
        """Wait for the question about a new server's key and check the key it shows."""
        self.wait_for(r"New server: check its key")
        match = self.wait_for(r"Key type: (\S+)[\s\S]*?Fingerprint: (SHA256:\S+)")
        key_type, fingerprint = match.group(1), match.group(2)
        expected = host_key_fingerprints(host_keys)
        assert expected.get(key_type) == fingerprint, (key_type, fingerprint, expected)
        assert re.search(words("Trust and connect"), self.text())
        return fingerprint

    def press(self, keys: str) -> None:
        """Send keys as typed; ``\\r`` is Enter."""
        self.child.send(keys)
        self.pump(0.2)

    def close(self) -> None:
        """End the program if it still runs."""
        if self.child.isalive():
            self.child.terminate(force=True)
