"""TOML helpers that tomllib lacks: the lines of tables and keys, and writing strings.

tomllib returns values without their positions, so a file's messages find the line of
a table header or a ``key =`` by scanning the text with ``scan_tables``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field

_HEADER = re.compile(r"""^\s*(\[\[?)\s*([A-Za-z0-9_.\-"' ]+?)\s*\]\]?\s*(?:#.*)?$""")
_KEY = re.compile(r"""^\s*("[^"\n]*"|'[^'\n]*'|[A-Za-z0-9_-]+)\s*[.=]""")
_POSITION = re.compile(r" \(at line (\d+), column (\d+)\)$")

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


@dataclass
class TableLines:
    """The 1-based lines of one table header and of its keys in a TOML text."""

    name: str
    """The header's name, e.g. ``team`` for ``[[team]]``; empty for the root table."""
    array: bool
    """Whether the header has double brackets (an array of tables)."""
    header: int
    keys: dict[str, int] = field(default_factory=dict)
    """The line of each key's first occurrence; a dotted key is stored by its first part."""


def scan_tables(text: str) -> list[TableLines]:
    """Return the root table, then every table header of ``text`` in file order.

    The scan is line-based. It skips the lines inside multi-line strings, but a key
    written on the same line as the end of an earlier value is not found.
    """
    current = TableLines(name="", array=False, header=1)
    tables = [current]
    delimiter: str | None = None  # the quotes of a multi-line string that is still open
    for number, line in enumerate(text.splitlines(), start=1):
        if delimiter is None:
            header = _HEADER.match(line)
            key = _KEY.match(line)
            if header is not None:
                brackets, name = header.groups()
                current = TableLines(name=name, array=brackets == "[[", header=number)
                tables.append(current)
            elif key is not None:
                current.keys.setdefault(key.group(1).strip("\"'"), number)
        for quotes in ('"""', "'''"):
            if delimiter in (None, quotes) and line.count(quotes) % 2 == 1:
                delimiter = None if delimiter else quotes
    return tables


def syntax_error_line(text: str, error: tomllib.TOMLDecodeError) -> tuple[int, str]:
    """Return the 1-based line of a tomllib error and its message without the position.

    tomllib in Python 3.11 has the position only in the message, as ``(at line L,
    column C)`` or ``(at end of document)``; the end of the document is its last line.
    """
    message = str(error)
    position = _POSITION.search(message)
    if position is not None:
        return int(position.group(1)), f"{message[: position.start()]} at column {position[2]}"
    last_line = max(1, len(text.splitlines()))
    return last_line, message.removesuffix(" (at end of document)") + " at the end of the file"


def toml_string(value: str) -> str:
    """Return ``value`` as a TOML basic string in double quotes."""
    escaped = []
    for character in value:
        if character in _ESCAPES:
            escaped.append(_ESCAPES[character])
        elif ord(character) < 0x20 or ord(character) == 0x7F:
            # TOML allows no raw control characters in a basic string.
            escaped.append(f"\\u{ord(character):04X}")
        else:
            escaped.append(character)
    return '"' + "".join(escaped) + '"'


def toml_string_list(values: Sequence[str]) -> str:
    """Return ``values`` as a one-line TOML array of basic strings."""
    return "[" + ", ".join(toml_string(value) for value in values) + "]"
