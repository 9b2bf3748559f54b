"""Checks decided by a short read-only shell probe on the VPS.

Each check builds a :class:`Probe`, and the engine runs the probes of a step in one
SSH round trip. Judging the output happens here, on the attendee's machine, so the
VPS needs nothing but a stock Debian 12.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from workshop_tui.core.checks.base import (
    Check,
    CheckFieldError,
    CheckResult,
    Fields,
    first_line,
    last_lines,
)
from workshop_tui.core.probes import Probe, ProbeOutput
from workshop_tui.core.variables import render_command, render_pattern, render_text

_PACKAGE_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")
_UNIT_NAME = re.compile(r"^[A-Za-z0-9:_.@\\-]+$")
_USER_NAME = re.compile(r"^[a-z_][a-z0-9_-]*\$?$")


class ShellCheck(Check):
    """A check decided from the output of one shell probe."""

    def probe(self, values: Mapping[str, str]) -> Probe:
        """Build the probe that gathers what :meth:`judge` needs."""
        raise NotImplementedError

    def judge(self, output: ProbeOutput, values: Mapping[str, str]) -> CheckResult:
        """Decide the result from the probe's output."""
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class CommandCheck(ShellCheck):
    """Passes when a command exits with the expected status and its output matches."""

    kind: ClassVar[str] = "command"
    fields: ClassVar[tuple[str, ...]] = ("run", "root", "exit", "output")
    run: str
    root: bool = False
    exit_status: int = 0
    output: str | None = None

    @classmethod
    def parse(cls, fields: Fields, title: str | None, hint: str | None, line: int) -> CommandCheck:
        run = fields.string("run")
        check = cls(
            title=title or f"`{first_line(run, 50)}` succeeds",
            hint=hint,
            line=line,
            run=run,
            root=fields.boolean("root", False),
            exit_status=fields.integer("exit", 0, 0, 255),
            output=fields.pattern("output"),
        )
        return check

    def placeholder_fields(self) -> Mapping[str, str]:
        return {"run": self.run, **({"output": self.output} if self.output else {})}

    def probe(self, values: Mapping[str, str]) -> Probe:
        return Probe(script=render_command(self.run, values), as_root=self.root)

    def judge(self, output: ProbeOutput, values: Mapping[str, str]) -> CheckResult:
        command = first_line(render_text(self.run, values), 50)
        evidence = last_lines(output.output)
        if output.exit_status != self.exit_status:
            return CheckResult(
                self,
                False,
                f"`{command}` exited with status {output.exit_status}, expected {self.exit_status}",
                evidence,
            )
        if self.output is not None:
            pattern = render_pattern(self.output, values)
            if not re.search(pattern, output.output, re.MULTILINE):
                # The pattern stays out of the reason, because for a question the
                # attendee answers in a file it would give the answer away.
                reason = f"the output of `{command}` is not what this check expects"
                return CheckResult(self, False, reason, evidence)
        return CheckResult(self, True, f"`{command}` exited with status {output.exit_status}")


_DPKG_STATES = {
    "n": "not installed",
    "c": "removed, but its configuration files are still there",
    "H": "half-installed, because an installation was interrupted",
    "U": "unpacked but not configured",
    "F": "half-configured, because its configuration failed or was interrupted",
    "W": "waiting for another package's triggers",
    "t": "waiting for its triggers to run",
}


@dataclass(frozen=True, kw_only=True)
class PackageCheck(ShellCheck):
    """Passes when every listed Debian package is installed and configured."""

    kind: ClassVar[str] = "package"
    fields: ClassVar[tuple[str, ...]] = ("package",)
    packages: tuple[str, ...] = ()

    @classmethod
    def parse(cls, fields: Fields, title: str | None, hint: str | None, line: int) -> PackageCheck:
        packages = fields.strings("package")
        for name in packages:
            if "{{" not in name and not _PACKAGE_NAME.match(name):
                raise CheckFieldError(f"'{name}' is not a valid Debian package name")
        names = ", ".join(packages)
        plural = "s are" if len(packages) > 1 else " is"
        return cls(
            title=title or f"Package{plural} installed: {names}",
            hint=hint,
            line=line,
            packages=packages,
        )

    def placeholder_fields(self) -> Mapping[str, str]:
        return {f"package {index}": name for index, name in enumerate(self.packages)}

    def probe(self, values: Mapping[str, str]) -> Probe:
        names = " ".join(shlex.quote(render_text(name, values)) for name in self.packages)
        return Probe(script=f"dpkg-query -W -f='${{Package}} ${{db:Status-Abbrev}}\\n' -- {names}")

    def judge(self, output: ProbeOutput, values: Mapping[str, str]) -> CheckResult:
        states: dict[str, str] = {}
        for row in output.output.splitlines():
            parts = row.split()
            if len(parts) == 2 and len(parts[1]) >= 2:
                states[parts[0].split(":")[0]] = parts[1][1]
        problems: list[str] = []
        for name in (render_text(package, values) for package in self.packages):
            state = states.get(name, "n")
            if state != "i":
                problems.append(f"{name} is {_DPKG_STATES.get(state, f'in dpkg state {state!r}')}")
        if problems:
            return CheckResult(self, False, "; ".join(problems), last_lines(output.output))
        return CheckResult(self, True, "installed: " + ", ".join(states))


@dataclass(frozen=True, kw_only=True)
class UnitCheck(ShellCheck):
    """Passes when a systemd unit is in the expected state (``active`` by default)."""

    kind: ClassVar[str] = "unit"
    fields: ClassVar[tuple[str, ...]] = ("unit", "state")
    unit: str = ""
    state: str = "active"

    @classmethod
    def parse(cls, fields: Fields, title: str | None, hint: str | None, line: int) -> UnitCheck:
        unit = fields.string("unit")
        if "{{" not in unit and not _UNIT_NAME.match(unit):
            raise CheckFieldError(f"'{unit}' is not a valid systemd unit name")
        if unit.removesuffix(".service") == "postfix":
            raise CheckFieldError(
                "postfix.service on Debian is a placeholder that reports active even when no "
                "mail daemon runs; check the unit 'postfix@-' instead"
            )
        state = fields.string("state", "active")
        allowed = ("active", "inactive", "failed")
        if state not in allowed:
            raise CheckFieldError(f"'state' must be one of {', '.join(allowed)}, not '{state}'")
        return cls(
            title=title or f"Service {unit} is {state}",
            hint=hint,
            line=line,
            unit=unit,
            state=state,
        )

    def placeholder_fields(self) -> Mapping[str, str]:
        return {"unit": self.unit}

    def probe(self, values: Mapping[str, str]) -> Probe:
        unit = shlex.quote(render_text(self.unit, values))
        return Probe(
            script=(f"systemctl show --property=LoadState,ActiveState,SubState,Result -- {unit}")
        )

    def judge(self, output: ProbeOutput, values: Mapping[str, str]) -> CheckResult:
        unit = render_text(self.unit, values)
        properties = dict(row.split("=", 1) for row in output.output.splitlines() if "=" in row)
        active = properties.get("ActiveState", "")
        if output.exit_status != 0 or not active:
            return CheckResult(
                self, False, f"systemctl could not show {unit}", last_lines(output.output)
            )
        if properties.get("LoadState") == "not-found":
            return CheckResult(
                self,
                False,
                f"there is no unit {unit}; is its package installed?",
                last_lines(output.output),
            )
        sub = properties.get("SubState", "")
        result = properties.get("Result", "")
        described = f"{unit} is {active} ({sub})"
        if result and result != "success":
            described += f", last result: {result}"
        return CheckResult(self, active == self.state, described, last_lines(output.output))


# Prints the headers of each message in an mbox file and a Maildir, one block per
# message, newest last. Only header lines are read, so large mailboxes stay cheap.
# A message that a mail reader has opened has "R" in its mbox Status header (Mutt
# writes "Status: RO" when it saves the mailbox) or the S flag in its Maildir name.
_MAILBOX_SCRIPT = r"""
user={user}
home=$(getent passwd "$user" | cut -d: -f6)
mbox=/var/mail/$user
if [ -f "$mbox" ]; then
  echo "== mbox $mbox"
  awk '/^From /{{head=1; print "-- message"; next}}
       head && /^$/{{head=0}}
       head && tolower($0) ~ /^(subject|from|to|status):/' "$mbox" | tail -n 3000
else
  echo "== missing $mbox"
fi
if [ -n "$home" ] && [ -d "$home/Maildir" ]; then
  echo "== maildir $home/Maildir"
  (cd "$home/Maildir" && ls -1tr -d new/* cur/* 2>/dev/null) | tail -n 500 | while read -r file; do
    echo "-- message"
    case $file in cur/*:2,*S*) echo "Status: RO" ;; esac
    sed -n '/^$/q; /^[Ss]ubject:/p; /^[Ff]rom:/p; /^[Tt]o:/p' "$home/Maildir/$file"
  done
else
  echo "== missing ${{home:-~$user}}/Maildir"
fi
"""


@dataclass(frozen=True)
class Message:
    """The headers of one message found in a mailbox."""

    location: str
    headers: dict[str, str]


def parse_mailbox_listing(text: str) -> tuple[list[Message], list[str], list[str]]:
    """Split the mailbox probe's output into messages, mailboxes found and mailboxes missing."""
    messages: list[Message] = []
    found: list[str] = []
    missing: list[str] = []
    location = ""
    for row in text.splitlines():
        if row.startswith("== "):
            kind, _, path = row[3:].partition(" ")
            if kind == "missing":
                missing.append(path)
            else:
                location = path
                found.append(path)
        elif row == "-- message":
            messages.append(Message(location, {}))
        elif messages and ":" in row:
            name, _, value = row.partition(":")
            messages[-1].headers.setdefault(name.strip().lower(), value.strip())
    return messages, found, missing


@dataclass(frozen=True, kw_only=True)
class MailboxCheck(ShellCheck):
    """Passes when a user's mailbox (mbox in /var/mail or ~/Maildir) contains a matching message."""

    kind: ClassVar[str] = "mailbox"
    fields: ClassVar[tuple[str, ...]] = ("user", "subject", "from", "seen")
    user: str = "{{ user }}"
    subject: str | None = None
    sender: str | None = None
    seen: bool = False
    """Whether the message must have been opened in a mail reader."""

    @classmethod
    def parse(cls, fields: Fields, title: str | None, hint: str | None, line: int) -> MailboxCheck:
        user = fields.string("user", "{{ user }}")
        if "{{" not in user and not _USER_NAME.match(user):
            raise CheckFieldError(f"'{user}' is not a valid user name")
        subject = fields.pattern("subject")
        sender = fields.pattern("from")
        if subject is None and sender is None:
            raise CheckFieldError("the mailbox check needs 'subject' or 'from' (or both)")
        seen = fields.boolean("seen", False)
        described = (
            ("a read message" if seen else "a message")
            + " with "
            + " and ".join(
                part
                for part in (
                    f"subject /{subject}/" if subject else "",
                    f"sender /{sender}/" if sender else "",
                )
                if part
            )
        )
        return cls(
            title=title or f"{described[0].upper()}{described[1:]} is in {user}'s mailbox",
            hint=hint,
            line=line,
            user=user,
            subject=subject,
            sender=sender,
            seen=seen,
        )

    def placeholder_fields(self) -> Mapping[str, str]:
        fields = {"user": self.user}
        if self.subject:
            fields["subject"] = self.subject
        if self.sender:
            fields["from"] = self.sender
        return fields

    def probe(self, values: Mapping[str, str]) -> Probe:
        user = render_text(self.user, values)
        # Reading another user's mailbox needs root; one's own does not.
        return Probe(
            script=_MAILBOX_SCRIPT.format(user=shlex.quote(user)),
            as_root=user != values.get("user"),
        )

    def judge(self, output: ProbeOutput, values: Mapping[str, str]) -> CheckResult:
        user = render_text(self.user, values)
        messages, found, missing = parse_mailbox_listing(output.output)
        subject = render_pattern(self.subject, values) if self.subject else None
        sender = render_pattern(self.sender, values) if self.sender else None
        unread = 0
        for message in reversed(messages):
            if subject and not re.search(subject, message.headers.get("subject", "")):
                continue
            if sender and not re.search(sender, message.headers.get("from", "")):
                continue
            if self.seen and "R" not in message.headers.get("status", ""):
                unread += 1
                continue
            return CheckResult(
                self,
                True,
                f"found in {message.location}: {message.headers.get('subject', '(no subject)')}",
            )
        where = ", ".join(
            [f"{path} ({_messages(sum(m.location == path for m in messages))})" for path in found]
            + [f"{path} (missing)" for path in missing]
        )
        recent = [m.headers.get("subject", "(no subject)") for m in messages[-3:]]
        evidence = "Latest subjects: " + "; ".join(recent) if recent else ""
        if unread:
            reason = f"{unread} matching message(s) for {user} in {where}, but none opened yet"
            return CheckResult(self, False, reason, evidence)
        return CheckResult(self, False, f"no matching message for {user} in {where}", evidence)


def _messages(count: int) -> str:
    return f"{count} message" if count == 1 else f"{count} messages"
