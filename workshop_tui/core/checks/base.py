"""The common base of all checks: field parsing, the check itself and its result."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from workshop_tui.core.variables import iter_placeholders


class CheckFieldError(ValueError):
    """A check block has an invalid field; ``line_offset`` counts from the block's first line."""

    def __init__(self, message: str, line_offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line_offset = line_offset


@dataclass(frozen=True, kw_only=True)
class Check:
    """A condition on the attendee's VPS that a lesson step expects after its commands.

    Subclasses add their own fields and define how the condition is tested.
    """

    kind: ClassVar[str]
    """The word after ``check`` in the lesson's fence info string."""

    fields: ClassVar[tuple[str, ...]] = ()
    """The YAML fields this check type reads, besides ``title``, ``hint`` and ``wait``."""

    title: str
    """The text shown next to ✓ or ✖."""

    hint: str | None
    """Markdown shown when the check fails."""

    line: int
    """1-based line of the check block in the lesson file."""

    wait: int = 0
    """Seconds to keep retrying a failing check before reporting it, for effects that
    take a moment, such as mail delivery."""

    def placeholder_fields(self) -> Mapping[str, str]:
        """Return the fields that may contain ``{{ variables }}``, by field name."""
        return {}

    def variables_used(self) -> set[str]:
        """Return the names of the variables this check needs."""
        names = {p.name for p in iter_placeholders(self.title)}
        for text in self.placeholder_fields().values():
            names.update(p.name for p in iter_placeholders(text))
        return names


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check on one VPS."""

    check: Check
    passed: bool
    reason: str
    """One line that explains why the check passed or failed, in the attendee's words."""

    evidence: str = ""
    """Output from the VPS that supports the reason, trimmed."""


class Fields:
    """Typed access to the fields of one check block, with the line of each field.

    Every read removes the field, so :meth:`finish` can report fields that no check
    type understands (usually a typo).
    """

    def __init__(self, kind: str, values: Mapping[str, object], lines: Mapping[str, int]) -> None:
        self._kind = kind
        self._values = dict(values)
        self._lines = dict(lines)

    def _line(self, name: str) -> int:
        return self._lines.get(name, 0)

    def _take(self, name: str) -> object | None:
        return self._values.pop(name, None)

    def has(self, name: str) -> bool:
        """Return whether the block sets ``name``."""
        return name in self._values

    def string(self, name: str, default: str | None = None) -> str:
        """Return a required (or defaulted) text field."""
        line = self._line(name)
        value = self._take(name)
        if value is None:
            if default is None:
                raise CheckFieldError(f"the {self._kind} check needs the field '{name}'")
            return default
        if isinstance(value, bool):
            raise CheckFieldError(
                f"'{name}' must be text, but YAML read {str(value).lower()} as a yes/no "
                f"value; put it in quotes: {name}: '{str(value).lower()}'",
                line,
            )
        if not isinstance(value, str | int | float):
            raise CheckFieldError(f"'{name}' must be text, not {type(value).__name__}", line)
        text = str(value).strip()
        if not text:
            raise CheckFieldError(f"'{name}' must not be empty", line)
        return text

    def optional_string(self, name: str) -> str | None:
        """Return a text field, or None when the block does not set it."""
        if not self.has(name):
            return None
        return self.string(name)

    def strings(self, name: str) -> tuple[str, ...]:
        """Return a field that is one text or a list of texts."""
        line = self._line(name)
        value = self._take(name)
        if value is None:
            raise CheckFieldError(f"the {self._kind} check needs the field '{name}'")
        items = value if isinstance(value, list) else [value]
        texts: list[str] = []
        for item in items:
            if isinstance(item, bool) or not isinstance(item, str | int | float) or not str(item):
                raise CheckFieldError(f"'{name}' must be a name or a list of names", line)
            texts.append(str(item).strip())
        if not texts:
            raise CheckFieldError(f"'{name}' must not be an empty list", line)
        return tuple(texts)

    def boolean(self, name: str, default: bool) -> bool:
        """Return a yes/no field."""
        line = self._line(name)
        value = self._take(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise CheckFieldError(f"'{name}' must be true or false, not {value!r}", line)
        return value

    def integer(self, name: str, default: int, minimum: int, maximum: int) -> int:
        """Return a whole-number field within ``minimum`` and ``maximum``."""
        line = self._line(name)
        value = self._take(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise CheckFieldError(f"'{name}' must be a whole number, not {value!r}", line)
        if not minimum <= value <= maximum:
            raise CheckFieldError(
                f"'{name}' must be between {minimum} and {maximum}, not {value}", line
            )
        return value

    def pattern(self, name: str, default: str | None = None) -> str | None:
        """Return a regular-expression field after checking that it compiles.

        Placeholders are replaced by a literal before compiling, because their
        values are escaped when the check runs.
        """
        line = self._line(name)
        if not self.has(name):
            return default
        text = self.string(name)
        try:
            re.compile(re.sub(r"\{\{[^}]*\}\}", "x", text), re.MULTILINE)
        except re.error as error:
            raise CheckFieldError(
                f"'{name}' is not a valid regular expression: {error}", line
            ) from None
        return text

    def finish(self) -> None:
        """Raise for any field that no read consumed."""
        for name in self._values:
            raise CheckFieldError(f"the {self._kind} check has no field '{name}'", self._line(name))


def first_line(text: str, limit: int = 60) -> str:
    """Return the first line of ``text``, shortened to ``limit`` characters.

    A line continued with ``\\`` or followed by more lines ends in "…", so it does not
    read as the whole command.
    """
    lines = text.strip().splitlines()
    line = lines[0] if lines else ""
    if line.endswith("\\"):
        line = line[:-1].rstrip() + " …"
    elif len(lines) > 1:
        line += " …"
    return line if len(line) <= limit else line[: limit - 1] + "…"


def last_lines(text: str, count: int = 8) -> str:
    """Return the last ``count`` non-empty lines of ``text``, for evidence."""
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n".join(lines[-count:])
