"""Turn a check block from a lesson into a typed :class:`Check`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import yaml

from workshop_tui.core.checks.base import Check, CheckFieldError, Fields
from workshop_tui.core.checks.protocol import ImapCheck, SmtpCheck
from workshop_tui.core.checks.shell import CommandCheck, MailboxCheck, PackageCheck, UnitCheck

MAX_WAIT = 300
"""Upper bound for a check's ``wait`` field, in seconds."""

COMMON_FIELDS = ("title", "hint", "wait")
"""Fields that every check type accepts."""

Parser = Callable[[Fields, str | None, str | None, int], Check]

CHECK_CLASSES: tuple[type[Check], ...] = (
    CommandCheck,
    PackageCheck,
    UnitCheck,
    MailboxCheck,
    SmtpCheck,
    ImapCheck,
)

CHECK_TYPES: Mapping[str, Parser] = {
    CommandCheck.kind: CommandCheck.parse,
    PackageCheck.kind: PackageCheck.parse,
    UnitCheck.kind: UnitCheck.parse,
    MailboxCheck.kind: MailboxCheck.parse,
    SmtpCheck.kind: SmtpCheck.parse,
    ImapCheck.kind: ImapCheck.parse,
}

FIELDS_BY_KIND: Mapping[str, tuple[str, ...]] = {
    check_class.kind: check_class.fields for check_class in CHECK_CLASSES
}


def load_mapping(body: str) -> tuple[dict[str, object], dict[str, int]]:
    """Load a YAML mapping and the 0-based line of each of its keys.

    Raises:
        CheckFieldError: the text is not YAML or not a mapping of names to values.
    """
    try:
        node = yaml.compose(body, Loader=yaml.SafeLoader)
        values = yaml.safe_load(body)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line if mark is not None else 0
        raise CheckFieldError(f"invalid YAML: {error.problem or error}", line) from None
    except yaml.YAMLError as error:
        raise CheckFieldError(f"invalid YAML: {error}") from None
    if values is None:
        return {}, {}
    if not isinstance(values, dict) or not isinstance(node, yaml.MappingNode):
        raise CheckFieldError("a check block must contain 'field: value' lines")
    lines: dict[str, int] = {}
    for key_node, _ in node.value:
        lines[str(key_node.value)] = key_node.start_mark.line
    return {str(key): value for key, value in values.items()}, lines


def parse_check(kind: str, body: str, line: int) -> Check:
    """Build the check of type ``kind`` from the YAML ``body`` of a block at ``line``.

    Raises:
        CheckFieldError: unknown type or invalid field; its ``line_offset`` counts
            from the first line of ``body``.
    """
    parser = CHECK_TYPES.get(kind)
    if parser is None:
        known = ", ".join(sorted(CHECK_TYPES))
        raise CheckFieldError(f"unknown check type '{kind}'; known types: {known}", -1)
    values, lines = load_mapping(body)
    accepted = (*FIELDS_BY_KIND[kind], *COMMON_FIELDS)
    unknown = [name for name in values if name not in accepted]
    if unknown:
        # Reported before any other field problem, because a mistyped name usually
        # also makes a required field look missing.
        names = ", ".join(f"'{name}'" for name in unknown)
        raise CheckFieldError(
            f"the {kind} check has no field {names}; its fields are {', '.join(accepted)}",
            lines.get(unknown[0], 0),
        )
    fields = Fields(kind, values, lines)
    title = fields.optional_string("title")
    hint = fields.optional_string("hint")
    wait = fields.integer("wait", 0, 0, MAX_WAIT)
    check = parser(fields, title, hint, line)
    fields.finish()
    return dataclasses.replace(check, wait=wait) if wait else check
