"""Findings, the context rules read besides the evidence, and helpers for hint text."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from workshop_tui.core.checks import CheckResult, CommandCheck, ProtocolCheck

# Ports that a failed check may have tried; a command check counts when its command
# names the port as a whole number.
MAIL_PORTS = (25, 110, 143, 465, 587, 993, 995)


@dataclass(frozen=True)
class Hit:
    """One match of a rule: the hint and the lines that prove it.

    ``when`` is the ISO timestamp of the newest journal line quoted, or "" for a fault
    in the current state, which sorts as the newest.
    """

    hint: str
    evidence: tuple[str, ...]
    when: str = ""


@dataclass(frozen=True)
class Finding:
    """A known fault that a rule recognised in the evidence.

    Attributes:
        rule: The id of the rule that found it.
        hint: Markdown for the attendee: what is wrong, why, and what to do.
        evidence: The lines from the server that show the fault, quoted as they are.
        priority: Lower comes first; copied from the rule.
        when: As in :class:`Hit`.
    """

    rule: str
    hint: str
    evidence: tuple[str, ...]
    priority: int = 50
    when: str = ""


@dataclass(frozen=True)
class DiagnosisContext:
    """The facts besides the evidence: the login user, the mail domain and the failed checks."""

    user: str
    domain: str | None = None
    ports: frozenset[int] = frozenset()
    """Mail ports that failed checks tried to reach."""
    failed: tuple[str, ...] = field(default_factory=tuple)
    """The reasons of the failed checks, for findings that quote them."""

    @classmethod
    def from_results(
        cls, results: Sequence[CheckResult], values: Mapping[str, str], user: str
    ) -> DiagnosisContext:
        """Build the context of a step's check results and the attendee's variables."""
        ports: set[int] = set()
        failed: list[str] = []
        for result in results:
            if result.passed:
                continue
            failed.append(result.reason)
            check = result.check
            if isinstance(check, ProtocolCheck):
                ports.add(check.port)
            elif isinstance(check, CommandCheck):
                ports.update(port for port in MAIL_PORTS if re.search(rf"\b{port}\b", check.run))
        return cls(
            user=user,
            domain=values.get("domain") or None,
            ports=frozenset(ports),
            failed=tuple(failed),
        )


def code(value: str) -> str:
    """Return ``value`` as a Markdown code span that no backtick inside can end early."""
    text = " ".join(value.split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def command(*words: str) -> str:
    """Return a shell command line with every word quoted, as a code span."""
    return code(shlex.join(words))


def newest(lines: Iterable[str]) -> str:
    """Return the timestamp of the newest journal line, or "" when there is none."""
    return max((line.split(" ", 1)[0] for line in lines), default="")


def domain_of(address: str) -> str:
    """Return the part after the last ``@``, lowercased, or "" without one."""
    return address.rpartition("@")[2].lower() if "@" in address else ""


def items(value: str | None) -> list[str]:
    """Split a Postfix list parameter (commas and spaces) into its items."""
    if not value:
        return []
    return [item for item in re.split(r"[\s,]+", value) if item]


def latest_per_key(
    lines: Iterable[str], pattern: re.Pattern[str], key: int | str = 1
) -> dict[str, tuple[re.Match[str], str]]:
    """Return, for each distinct value of group ``key``, the newest matching line.

    ``lines`` are oldest first, so later matches replace earlier ones; the mapping
    keeps the order in which the keys first appeared.
    """
    found: dict[str, tuple[re.Match[str], str]] = {}
    for line in lines:
        match = pattern.search(line)
        if match:
            found[match.group(key).lower()] = (match, line)
    return found
