"""Typed access to the sections gathered from the VPS (see :mod:`.sections`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from workshop_tui.core.diagnosis.sections import ABSENT, SECTIONS, evidence_probes
from workshop_tui.core.probes import ProbeOutput

__all__ = ["Evidence", "Listener", "Process", "Section", "evidence_probes"]


@dataclass(frozen=True)
class Section:
    """The output of one section; ``exit_status`` -1 means it did not finish."""

    name: str
    text: str = ""
    exit_status: int = 0
    truncated: bool = False

    @property
    def absent(self) -> str | None:
        """The program that is not installed, when the section reports one."""
        for line in self.text.splitlines():
            if line.startswith(ABSENT):
                return line.removeprefix(ABSENT).strip()
        return None

    @property
    def lines(self) -> list[str]:
        """The non-empty lines, or none when the program is absent."""
        if self.absent is not None:
            return []
        return [line.rstrip() for line in self.text.splitlines() if line.strip()]


@dataclass(frozen=True)
class Process:
    """A package tool or debconf process from the process list."""

    pid: int
    ppid: int
    seconds: int
    command: str
    args: str
    line: str


@dataclass(frozen=True)
class Listener:
    """A listening TCP socket from ``ss``."""

    port: int
    line: str


_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
_SETTING = re.compile(r"^([A-Za-z0-9_]+) = ?(.*)$")
_PORT = re.compile(r"\S+:(\d+)\s")


class Evidence:
    """Sections gathered from one VPS, with helpers that read them."""

    def __init__(self, sections: Mapping[str, Section]) -> None:
        self.sections = dict(sections)

    @classmethod
    def from_outputs(cls, outputs: Sequence[ProbeOutput]) -> Evidence:
        """Build the evidence from the outputs of :func:`evidence_probes`, in order."""
        return cls(
            {
                name: Section(name, output.output, output.exit_status, output.truncated)
                for name, output in zip(SECTIONS, outputs, strict=False)
            }
        )

    @classmethod
    def from_texts(cls, texts: Mapping[str, str]) -> Evidence:
        """Build the evidence from section texts, as if every section exited with 0."""
        return cls({name: Section(name, text) for name, text in texts.items()})

    def section(self, name: str) -> Section:
        """Return a section; a section that was not gathered is empty."""
        return self.sections.get(name, Section(name, exit_status=-1))

    def has(self, name: str) -> bool:
        """Return whether a section was gathered, finished and found its program."""
        section = self.section(name)
        return section.exit_status != -1 and section.absent is None and name in self.sections

    # Postfix and Dovecot ------------------------------------------------------------------

    @property
    def postfix_installed(self) -> bool:
        """Whether ``postconf`` printed settings, which it does whenever Postfix is installed."""
        return self.has("postconf-values") and bool(self.section("postconf-values").lines)

    @property
    def dovecot_installed(self) -> bool:
        """Whether ``doveconf`` printed settings, which it does whenever Dovecot is installed."""
        return self.has("doveconf-values") and bool(self.section("doveconf-values").lines)

    @cached_property
    def _postconf(self) -> dict[str, str]:
        return _settings(self.section("postconf-values").lines)

    @cached_property
    def _postconf_set(self) -> dict[str, str]:
        return _settings(self.section("postconf").lines)

    @cached_property
    def _doveconf(self) -> dict[str, str]:
        return _settings(self.section("doveconf-values").lines)

    def postconf(self, name: str) -> str | None:
        """Return a Postfix parameter's effective value with ``$names`` expanded, or None."""
        return self._postconf.get(name)

    def postconf_set(self, name: str) -> str | None:
        """Return a parameter as main.cf sets it (``postconf -n``), or None if unset."""
        return self._postconf_set.get(name)

    def doveconf(self, name: str) -> str | None:
        """Return a Dovecot setting's effective value, or None."""
        return self._doveconf.get(name)

    def postfix_services(self) -> dict[str, str]:
        """Return the enabled master.cf services as ``name/type`` to their line."""
        services: dict[str, str] = {}
        for line in self.section("postfix-services").lines:
            words = line.split()
            if len(words) >= 2 and not line.startswith(("postconf:", " ")):
                services.setdefault(f"{words[0]}/{words[1]}", line)
        return services

    def postfix_sockets(self) -> set[str] | None:
        """Return the socket names in Postfix's private directory, or None if unknown."""
        if not self.has("postfix-sockets"):
            return None
        return set(self.section("postfix-sockets").lines)

    # The journal and the queue --------------------------------------------------------

    @cached_property
    def journal(self) -> list[str]:
        """Return the journal lines of Postfix and Dovecot, oldest first, without repeats.

        Lines of both journal sections are merged by their timestamps; a line that
        both contain appears once.
        """
        seen: set[str] = set()
        merged: list[str] = []
        for name in ("journal-units", "journal-mail"):
            for line in self.section(name).lines:
                if _TIMESTAMP.match(line) and line not in seen:
                    seen.add(line)
                    merged.append(line)
        return sorted(merged, key=lambda line: line.split(" ", 1)[0])

    def queue(self) -> list[str] | None:
        """Return the lines of ``postqueue -p``, or None when the queue could not be read."""
        if not self.has("queue"):
            return None
        section = self.section("queue")
        if section.exit_status != 0:
            return None
        return section.lines

    # The host -------------------------------------------------------------------------

    def unit(self, unit: str) -> dict[str, str]:
        """Return the properties of a systemd unit (``ActiveState`` and so on)."""
        # systemctl show prints one block of properties per unit, in no fixed order
        # within the block, and a blank line between blocks.
        for block in self.section("units").text.split("\n\n"):
            properties: dict[str, str] = {}
            for line in block.splitlines():
                name, separator, value = line.partition("=")
                if separator:
                    properties[name] = value.strip()
            if properties.get("Id") == unit:
                return properties
        return {}

    def listeners(self) -> list[Listener] | None:
        """Return the listening TCP sockets, or None when ``ss`` failed or did not run."""
        section = self.section("sockets")
        if section.exit_status != 0 or "sockets" not in self.sections:
            return None
        found = []
        for line in section.lines:
            words = line.split()
            match = _PORT.match(words[3] + " ") if len(words) > 3 else None
            if match:
                found.append(Listener(int(match.group(1)), line.strip()))
        return found

    def processes(self) -> list[Process]:
        """Return the package tool and debconf processes."""
        found = []
        for line in self.section("processes").lines:
            words = line.split(None, 4)
            if len(words) == 5 and all(word.isdigit() for word in words[:3]):
                found.append(
                    Process(int(words[0]), int(words[1]), int(words[2]), words[3], words[4], line)
                )
        return found

    def labelled(self, name: str) -> dict[str, str]:
        """Return ``label rest`` lines of a section as a mapping from label to rest."""
        pairs: dict[str, str] = {}
        for line in self.section(name).lines:
            label, _, rest = line.partition(" ")
            pairs.setdefault(label, rest.strip())
        return pairs

    def history(self) -> list[str]:
        """Return the shell history lines that name a mail log file."""
        return self.section("history").lines

    def mail_log_exists(self) -> bool | None:
        """Return whether /var/log/mail.log exists, or None when unknown."""
        state = self.labelled("mail-log").get("mail.log")
        return None if state is None else state == "present"

    def disks(self) -> list[tuple[str, int, str]]:
        """Return each file system from ``df -P`` as (mount point, percent used, line)."""
        found = []
        for line in self.section("disk").lines:
            words = line.split()
            if len(words) >= 6 and words[4].rstrip("%").isdigit():
                found.append((words[5], int(words[4].rstrip("%")), line))
        return found

    def certificate(self, service: str) -> tuple[str, str, str] | None:
        """Return (path, subject, issuer) of ``dovecot``'s or ``postfix``'s certificate."""
        subject = issuer = path = ""
        for line in self.section("certificates").lines:
            words = line.split(" ", 2)
            if len(words) < 3 or words[0] != service:
                continue
            path = words[1]
            if words[2].startswith("subject="):
                subject = words[2].removeprefix("subject=").strip()
            elif words[2].startswith("issuer="):
                issuer = words[2].removeprefix("issuer=").strip()
        return (path, subject, issuer) if path else None


def _settings(lines: Sequence[str]) -> dict[str, str]:
    settings: dict[str, str] = {}
    for line in lines:
        match = _SETTING.match(line)
        if match:
            settings.setdefault(match.group(1), match.group(2).strip())
    return settings
