"""Per-attendee variables such as ``{{ user }}`` and ``{{ domain }}`` in lessons.

A placeholder in prose is replaced by the plain value. A placeholder in a command is
replaced by the shell-quoted value, so a value such as ``x'; rm -rf ~ #`` stays one
word of data. Quoting only protects a placeholder outside quotes and here-documents.
Inside them, the inserted quotes would become part of the text, so
:func:`find_unsafe_placeholders` reports those places and the lesson checker rejects
them.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Only for annotations: lessons import this module, so a runtime import would loop.
    from workshop_tui.core.lessons.model import Lesson
    from workshop_tui.core.login import Login

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")

BUILTIN_VARIABLES: Mapping[str, str] = {
    "user": "the login name on the VPS, from the slip",
    "host": "the address the app connects to, from the slip",
    "port": "the SSH port, 22 unless the slip says otherwise",
    "hostname": "the VPS's short host name, as `hostname` prints it",
    "fqdn": "the VPS's fully qualified name, as `hostname -f` prints it",
    "domain": "the mail domain of the VPS; the fqdn unless the facilitator sets another",
}


def lesson_values(
    login: Login,
    hostname: str | None,
    fqdn: str | None,
    lesson: Lesson | None,
    overrides: Mapping[str, str],
) -> dict[str, str]:
    """Return the variable values of one login, for ``lesson`` if given.

    ``hostname`` and ``fqdn`` are what the VPS printed after login, or None before
    that; ``domain`` defaults to the fqdn. Lesson defaults win over those, and
    ``overrides`` (``--var`` options, or a roster's team variables) win over all.
    """
    values = {"user": login.user, "host": login.host, "port": str(login.port)}
    if hostname is not None:
        values["hostname"] = hostname
    if fqdn is not None:
        values.update(fqdn=fqdn, domain=fqdn)
    if lesson is not None:
        values.update(
            {name: value for name, value in lesson.variables.items() if value is not None}
        )
    values.update(overrides)
    return values


class MissingVariable(KeyError):
    """A placeholder names a variable that has no value for this attendee."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"no value for the variable {{{{ {self.name} }}}}"


@dataclass(frozen=True)
class Placeholder:
    """One ``{{ name }}`` in a text, with its 0-based line offset inside that text."""

    name: str
    start: int
    end: int
    line_offset: int


def iter_placeholders(text: str) -> Iterator[Placeholder]:
    """Yield every placeholder in ``text`` in order."""
    for match in PLACEHOLDER.finditer(text):
        yield Placeholder(
            name=match.group(1),
            start=match.start(),
            end=match.end(),
            line_offset=text.count("\n", 0, match.start()),
        )


def _substitute(text: str, values: Mapping[str, str], quote: bool) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise MissingVariable(name)
        value = values[name]
        return shlex.quote(value) if quote else value

    return PLACEHOLDER.sub(replace, text)


def render_text(text: str, values: Mapping[str, str]) -> str:
    """Replace placeholders in prose or in a non-shell field with the plain values.

    Raises:
        MissingVariable: a placeholder has no value.
    """
    return _substitute(text, values, quote=False)


def render_command(script: str, values: Mapping[str, str]) -> str:
    """Replace placeholders in a shell script with shell-quoted values.

    Raises:
        MissingVariable: a placeholder has no value.
    """
    return _substitute(script, values, quote=True)


def render_pattern(pattern: str, values: Mapping[str, str]) -> str:
    """Replace placeholders in a regular expression with the escaped values."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise MissingVariable(name)
        return re.escape(values[name])

    return PLACEHOLDER.sub(replace, pattern)


@dataclass(frozen=True)
class UnsafePlaceholder:
    """A placeholder in a shell script where quoting cannot keep the value as data."""

    placeholder: Placeholder
    context: str  # "single quotes", "double quotes" or "a here-document"


_HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")


def find_unsafe_placeholders(script: str) -> list[UnsafePlaceholder]:
    """Return the placeholders of a shell script that sit inside quotes or a here-document.

    The scan follows the quoting rules of POSIX sh closely enough for lesson
    commands: backslash escapes, single and double quotes, comments and
    here-documents. ``$( )`` inside double quotes is treated as part of the quotes.
    """
    inside = _quoting_context_by_offset(script)
    unsafe: list[UnsafePlaceholder] = []
    for placeholder in iter_placeholders(script):
        context = inside.get(placeholder.start)
        if context is not None:
            unsafe.append(UnsafePlaceholder(placeholder, context))
    return unsafe


def _quoting_context_by_offset(script: str) -> dict[int, str]:
    """Map the offset of every character that is quoted or in a here-document to its context."""
    contexts: dict[int, str] = {}
    pending_heredocs: list[str] = []
    state = "plain"
    index = 0
    length = len(script)
    while index < length:
        char = script[index]
        if state == "heredoc":
            line_end = script.find("\n", index)
            line_end = length if line_end == -1 else line_end
            line = script[index:line_end]
            if line.lstrip("\t") == pending_heredocs[0]:
                pending_heredocs.pop(0)
                if not pending_heredocs:
                    state = "plain"
            else:
                for offset in range(index, line_end):
                    contexts[offset] = "a here-document"
            index = line_end + 1
            continue
        if state == "single":
            if char == "'":
                state = "plain"
            else:
                contexts[index] = "single quotes"
            index += 1
            continue
        if state == "double":
            if char == "\\":
                contexts[index] = "double quotes"
                contexts[index + 1] = "double quotes"
                index += 2
                continue
            if char == '"':
                state = "plain"
            else:
                contexts[index] = "double quotes"
            index += 1
            continue
        # Plain shell text.
        if char == "\\":
            index += 2
            continue
        if char == "'":
            state = "single"
        elif char == '"':
            state = "double"
        elif char == "#" and (index == 0 or script[index - 1] in " \t\n;&|("):
            line_end = script.find("\n", index)
            index = length if line_end == -1 else line_end
            continue
        elif char == "<" and script.startswith("<<", index) and not script.startswith("<<<", index):
            match = _HEREDOC.match(script, index)
            if match:
                pending_heredocs.append(match.group(2))
                index = match.end()
                continue
        elif char == "\n" and pending_heredocs:
            state = "heredoc"
        index += 1
    return contexts
