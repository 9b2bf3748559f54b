"""Checks: typed conditions on the attendee's VPS, and the engine that evaluates them."""

from workshop_tui.core.checks.base import Check, CheckFieldError, CheckResult
from workshop_tui.core.checks.protocol import ImapCheck, ProtocolCheck, SmtpCheck
from workshop_tui.core.checks.registry import CHECK_TYPES, parse_check
from workshop_tui.core.checks.shell import (
    CommandCheck,
    MailboxCheck,
    PackageCheck,
    ShellCheck,
    UnitCheck,
)

__all__ = [
    "CHECK_TYPES",
    "Check",
    "CheckFieldError",
    "CheckResult",
    "CommandCheck",
    "ImapCheck",
    "MailboxCheck",
    "PackageCheck",
    "ProtocolCheck",
    "ShellCheck",
    "SmtpCheck",
    "UnitCheck",
    "parse_check",
]
