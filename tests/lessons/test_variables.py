"""Variables in lessons: substitution, shell quoting and unsafe places."""

from __future__ import annotations

import subprocess

import pytest

from workshop_tui.core.variables import (
    MissingVariable,
    find_unsafe_placeholders,
    render_command,
    render_pattern,
    render_text,
)

HOSTILE = [
    "x'; rm -rf ~ #",
    "$(touch /tmp/pwned)",
    "`id`",
    'a"b',
    "line\nbreak",
    "*",
    "-n",
    "",
    "; echo injected",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_command_keeps_value_as_data(value: str) -> None:
    script = render_command("printf '%s' {{ value }}", {"value": value})
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout == value


@pytest.mark.parametrize("value", HOSTILE)
def test_adjacent_placeholders_stay_one_word(value: str) -> None:
    script = render_command("printf '%s|' {{ a }}@{{ b }}", {"a": value, "b": "example.org"})
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout == f"{value}@example.org|"


def test_text_is_plain() -> None:
    assert render_text("Hi {{user}} on {{ host }}", {"user": "x'y", "host": "h"}) == "Hi x'y on h"


def test_missing_value_raises() -> None:
    with pytest.raises(MissingVariable) as caught:
        render_command("echo {{ domain }}", {})
    assert caught.value.name == "domain"
    assert str(caught.value) == "no value for the variable {{ domain }}"


def test_pattern_escapes_value() -> None:
    pattern = render_pattern(r"^to=<{{ user }}@", {"user": "a.b+c"})
    assert pattern == r"^to=<a\.b\+c@"


@pytest.mark.parametrize(
    ("script", "context"),
    [
        ("echo '{{ user }}'", "single quotes"),
        ('echo "{{ user }}"', "double quotes"),
        ('echo "a \\" {{ user }}"', "double quotes"),
        ("cat <<EOF\n{{ user }}\nEOF\n", "a here-document"),
        ("cat <<-'END'\n\t{{ user }}\n\tEND\n", "a here-document"),
    ],
)
def test_unsafe_places_found(script: str, context: str) -> None:
    unsafe = find_unsafe_placeholders(script)
    assert [item.context for item in unsafe] == [context]


@pytest.mark.parametrize(
    "script",
    [
        "echo {{ user }}",
        "echo 'a' {{ user }} \"b\"",
        "echo it\\'s {{ user }}",
        "cat <<EOF\nplain\nEOF\necho {{ user }}\n",
        "# a comment with 'quote\necho {{ user }}",
        "echo a#b {{ user }}",
        "cat <<< {{ user }}",
    ],
)
def test_safe_places_pass(script: str) -> None:
    assert find_unsafe_placeholders(script) == []


def test_unsafe_reports_line_offset() -> None:
    unsafe = find_unsafe_placeholders("true\ntrue\necho '{{ user }}'\n")
    assert unsafe[0].placeholder.line_offset == 2
