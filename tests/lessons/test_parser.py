"""The lesson parser on good and broken lessons."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from workshop_tui.core.checks import (
    CommandCheck,
    ImapCheck,
    MailboxCheck,
    PackageCheck,
    SmtpCheck,
    UnitCheck,
)
from workshop_tui.core.errors import LessonError
from workshop_tui.core.lessons import load_catalog, parse_lesson

REPOSITORY = Path(__file__).resolve().parents[2]

GOOD = """\
---
id: hello
title: Hello, Postfix
summary: Install Postfix.
requires: []
variables:
  greeting: Hello
---

# Hello, Postfix

Welcome, {{ user }}.

## What SMTP is

Just reading.

## Install Postfix

Answer the question first:

```sh run root timeout=600
echo postfix postfix/mailname string {{ domain }} | debconf-set-selections
apt-get install -y postfix
```

```check package
package: postfix
hint: Run `apt-get update` first.
```

```check unit
unit: postfix@-
title: Postfix runs
```

Then look:

```sh run
systemctl status postfix@- --no-pager
```

### Hint

Look at the journal.

### Solution

```sh
sudo apt-get install postfix
```

## Talk to it

```check smtp
banner: ESMTP Postfix
```

```check imap
port: 143
starttls: true
```

```check mailbox
subject: '{{ greeting }}'
```

```check command
run: grep -q {{ domain }} /etc/mailname
root: true
output: '{{ domain }}'
exit: 0
```
"""


def write(tmp_path: Path, text: str, name: str = "lesson.md") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(LessonError) as caught:
        parse_lesson(path)
    return [f"{problem.line}: {problem.message}" for problem in caught.value.problems]


def lesson_with_step(body: str) -> str:
    header = "---\nid: t\ntitle: T\nsummary: S\n---\n\n## Step\n\n"
    return header + textwrap.dedent(body)


def test_good_lesson_front_matter(tmp_path: Path) -> None:
    lesson = parse_lesson(write(tmp_path, GOOD))
    assert lesson.id == "hello"
    assert lesson.title == "Hello, Postfix"
    assert lesson.summary == "Install Postfix."
    assert lesson.requires == ()
    assert lesson.variables == {"greeting": "Hello"}
    assert lesson.intro == "Welcome, {{ user }}.\n"


def test_good_lesson_steps(tmp_path: Path) -> None:
    lesson = parse_lesson(write(tmp_path, GOOD))
    assert [step.id for step in lesson.steps] == ["what-smtp-is", "install-postfix", "talk-to-it"]
    reading, install, _ = lesson.steps
    assert reading.commands == ()
    assert reading.checks == ()
    assert install.line == 18
    assert len(install.commands) == 2
    assert install.commands[0].as_root is True
    assert install.commands[0].timeout == 600
    assert install.commands[0].line == 23
    assert install.commands[1].as_root is False
    assert install.commands[1].timeout == 900
    assert install.hint == "Look at the journal.\n"
    assert install.solution is not None and "sudo apt-get install postfix" in install.solution


def test_good_lesson_checks(tmp_path: Path) -> None:
    lesson = parse_lesson(write(tmp_path, GOOD))
    install = lesson.steps[1]
    package, unit = install.checks
    assert isinstance(package, PackageCheck) and package.packages == ("postfix",)
    assert package.hint == "Run `apt-get update` first."
    assert isinstance(unit, UnitCheck)
    assert unit.unit == "postfix@-"
    assert unit.title == "Postfix runs"
    assert unit.line == 32
    smtp, imap, mailbox, command = lesson.steps[2].checks
    assert isinstance(smtp, SmtpCheck)
    assert smtp.port == 25
    assert smtp.banner == "ESMTP Postfix"
    assert isinstance(imap, ImapCheck) and imap.starttls is True
    assert isinstance(mailbox, MailboxCheck) and mailbox.user == "{{ user }}"
    assert isinstance(command, CommandCheck) and command.root is True


def test_body_keeps_commands_drops_checks(tmp_path: Path) -> None:
    install = parse_lesson(write(tmp_path, GOOD)).steps[1]
    shown = install.render_markdown({"domain": "alpha.lab.test", "user": "learner"})
    assert "Answer the question first:" in shown
    assert "```sh\necho postfix postfix/mailname string alpha.lab.test |" in shown
    assert "systemctl status postfix@- --no-pager" in shown
    assert "check package" not in shown
    assert "Look at the journal" not in shown
    assert "Solution" not in shown


def test_body_quotes_hostile_values(tmp_path: Path) -> None:
    install = parse_lesson(write(tmp_path, GOOD)).steps[1]
    shown = install.render_markdown({"domain": "x'; rm -rf ~ #", "user": "learner"})
    assert "string 'x'\"'\"'; rm -rf ~ #' |" in shown


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# no front matter\n\n## Step\n", "1: missing front matter"),
        ("---\nid: [unclosed\n---\n## S\n", "invalid front matter"),
        ("---\nid: Bad_Id\ntitle: T\nsummary: S\n---\n## S\n", "2: id 'Bad_Id' must be"),
        ("---\nid: t\nsummary: S\n---\n## S\n", "front matter needs 'title:'"),
        (
            "---\nid: t\ntitle: T\nsummary: S\ncolour: red\n---\n## S\n",
            "5: unknown front matter key 'colour'",
        ),
        (
            "---\nid: t\ntitle: T\nsummary: S\nrequires: base\n---\n## S\n",
            "5: 'requires' must be a list",
        ),
        ("---\nid: t\ntitle: T\nsummary: S\n---\nOnly an intro.\n", "the lesson has no steps"),
    ],
)
def test_bad_front_matter(tmp_path: Path, text: str, expected: str) -> None:
    problems = problems_of(write(tmp_path, text))
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("```check service\nunit: ssh\n```\n", "9: unknown check type 'service'"),
        (
            "```check unit\nunit: ssh\ncolour: red\n```\n",
            "11: the unit check has no field 'colour'",
        ),
        ("```check unit\nstate: active\n```\n", "the unit check needs the field 'unit'"),
        ("```check unit\nunit: postfix\n```\n", "check the unit 'postfix@-' instead"),
        ("```check command\nrun: 'true'\nexit: many\n```\n", "11: 'exit' must be a whole number"),
        (
            "```check command\nrun: 'true'\noutput: '(unclosed'\n```\n",
            "'output' is not a valid regular expression",
        ),
        ("```check smtp\nport: 99999\n```\n", "'port' must be between 1 and 65535"),
        ("```check mailbox\nuser: alice\n```\n", "needs 'subject' or 'from'"),
        ("```check unit\nunit: [a\n```\n", "invalid YAML"),
        ("```check\nunit: ssh\n```\n", "9: a check block starts with ```check TYPE"),
        (
            "```sh run\napt-get install -y postfix\n```\n",
            "7: the step 'Step' runs commands but has no check",
        ),
        (
            "```sh run sudo\ntrue\n```\n```check unit\nunit: ssh\n```\n",
            "9: unknown option 'sudo' for a run block",
        ),
        (
            "```python run\nprint(1)\n```\n```check unit\nunit: ssh\n```\n",
            "run blocks are shell scripts",
        ),
        (
            "```sh run timeout=0\ntrue\n```\n```check unit\nunit: ssh\n```\n",
            "timeout must be whole seconds",
        ),
        ("```sh root\ntrue\n```\n", "only apply to blocks marked 'run'"),
        ("Hello {{ nobody }}\n", "9: undefined variable {{ nobody }}"),
        (
            "```sh run\necho '{{ user }}'\n```\n```check unit\nunit: ssh\n```\n",
            "10: {{ user }} is inside single quotes",
        ),
        (
            '```sh run\necho "hi {{ user }}"\n```\n```check unit\nunit: ssh\n```\n',
            "10: {{ user }} is inside double quotes",
        ),
        (
            "```sh run\ncat > /tmp/x <<EOF\nname {{ user }}\nEOF\n```\n"
            "```check unit\nunit: ssh\n```\n",
            "11: {{ user }} is inside a here-document",
        ),
        ('```check command\nrun: echo "{{ user }}"\n```\n', "is inside double quotes"),
        ("```check command\nrun: echo {{ nobody }}\n```\n", "undefined variable {{ nobody }}"),
        ("- item\n\n  ```check unit\n  unit: ssh\n  ```\n", "must not be nested"),
        ("### Hint\n\n", "the hint section of 'Step' is empty"),
        ("### Hint\n\n```check unit\nunit: ssh\n```\n", "do not belong in a hint section"),
        ("## Step\n\nagain\n", "two steps are called 'Step'"),
    ],
)
def test_bad_steps(tmp_path: Path, body: str, expected: str) -> None:
    problems = problems_of(write(tmp_path, lesson_with_step(body)))
    assert any(expected in problem for problem in problems), problems


def test_block_before_first_step(tmp_path: Path) -> None:
    text = "---\nid: t\ntitle: T\nsummary: S\n---\n\n```check unit\nunit: ssh\n```\n\n## S\n"
    problems = problems_of(write(tmp_path, text))
    assert problems == ["7: this block comes before the first '## step' heading"]


def test_all_problems_reported_together(tmp_path: Path) -> None:
    body = "```check nope\n```\n\nHello {{ nobody }}\n\n```check unit\nfoo: 1\n```\n"
    problems = problems_of(write(tmp_path, lesson_with_step(body)))
    assert len(problems) == 3, problems


def test_error_message_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, lesson_with_step("```check nope\n```\n"))
    with pytest.raises(LessonError) as caught:
        parse_lesson(path)
    assert str(caught.value).startswith(f"{path}:9: unknown check type 'nope'")


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "binary.md"
    path.write_bytes(b"\xff\xfe\x00garbage")
    assert problems_of(path) == ["1: not UTF-8 text: invalid start byte"]


def test_catalog_orders_by_requires(tmp_path: Path) -> None:
    write(tmp_path, "---\nid: b\ntitle: B\nsummary: S\nrequires: [a]\n---\n## S\n", "1-b.md")
    write(tmp_path, "---\nid: a\ntitle: A\nsummary: S\n---\n## S\n", "2-a.md")
    catalog = load_catalog([tmp_path])
    assert [lesson.id for lesson in catalog] == ["a", "b"]


def test_catalog_cross_problems(tmp_path: Path) -> None:
    write(tmp_path, "---\nid: a\ntitle: A\nsummary: S\nrequires: [b]\n---\n## S\n", "1.md")
    write(tmp_path, "---\nid: b\ntitle: B\nsummary: S\nrequires: [a, zzz]\n---\n## S\n", "2.md")
    write(tmp_path, "---\nid: b\ntitle: B2\nsummary: S\n---\n## S\n", "3.md")
    with pytest.raises(LessonError) as caught:
        load_catalog([tmp_path])
    messages = [str(problem) for problem in caught.value.problems]
    assert any("3.md:1: the id 'b' is already used" in message for message in messages)
    assert any("requires 'zzz', but no lesson has that id" in message for message in messages)
    assert any("require each other in a circle: a -> b -> a" in message for message in messages)


def test_catalog_missing_path(tmp_path: Path) -> None:
    with pytest.raises(LessonError, match="no such file or directory"):
        load_catalog([tmp_path / "missing"])


def test_shipped_lessons_are_valid() -> None:
    catalog = load_catalog()
    assert len(catalog) >= 1
    assert catalog.get("postfix") is not None


def test_typo_in_check_field_not_missing_check(tmp_path: Path) -> None:
    body = "```sh run\ntrue\n```\n\n```check command\nrun: 'true'\noutptu: yes\n```\n"
    problems = problems_of(write(tmp_path, lesson_with_step(body)))
    assert problems == [
        "15: the command check has no field 'outptu'; its fields are run, root, exit, "
        "output, title, hint, wait"
    ]


def test_requires_problem_points_at_its_line(tmp_path: Path) -> None:
    write(tmp_path, "---\nid: a\ntitle: A\nsummary: S\nrequires: [nothing]\n---\n## S\n", "a.md")
    with pytest.raises(LessonError) as caught:
        load_catalog([tmp_path])
    assert [problem.line for problem in caught.value.problems] == [5]


def test_documented_example_is_valid(tmp_path: Path) -> None:
    document = (REPOSITORY / "docs" / "lesson-format.md").read_text(encoding="utf-8")
    example = document.split("````markdown\n", 1)[1].split("\n````", 1)[0]
    lesson = parse_lesson(write(tmp_path, example + "\n"))
    assert lesson.id == "hello-postfix"
    assert len(lesson.steps) == 2


def test_catalog_reports_all_problems_at_once(tmp_path: Path) -> None:
    text = "---\nid: a\ntitle: A\nsummary: S\nrequires: [postfx]\n---\n## S\n\n```check nope\n```\n"
    write(tmp_path, text, "a.md")
    with pytest.raises(LessonError) as caught:
        load_catalog([tmp_path])
    messages = [f"{problem.line}: {problem.message}" for problem in caught.value.problems]
    assert any(message.startswith("9: unknown check type 'nope'") for message in messages)
    assert any(message.startswith("5: requires 'postfx'") for message in messages)


def test_yes_no_value_suggests_quotes(tmp_path: Path) -> None:
    problems = problems_of(write(tmp_path, lesson_with_step("```check command\nrun: true\n```\n")))
    assert problems == [
        "10: 'run' must be text, but YAML read true as a yes/no value; put it in quotes: "
        "run: 'true'"
    ]


def test_protocol_check_accepts_placeholders(tmp_path: Path) -> None:
    body = (
        "```check smtp\ntitle: '{{ host }} answers'\naddress: '{{ host }}'\n"
        "banner: '{{ user }}'\n```\n"
    )
    lesson = parse_lesson(write(tmp_path, lesson_with_step(body)))
    assert lesson.steps[0].checks[0].title == "{{ host }} answers"
