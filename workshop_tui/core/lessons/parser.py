"""Read a lesson file written in Markdown; see docs/lesson-format.md for the format.

The parser collects every problem it finds instead of stopping at the first, and
reports them all at once, each as ``file:line: message``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.front_matter import front_matter_plugin

from workshop_tui.core.checks import Check, CheckFieldError, parse_check
from workshop_tui.core.checks.shell import CommandCheck
from workshop_tui.core.errors import LessonError, LessonProblem
from workshop_tui.core.lessons.model import (
    DEFAULT_COMMAND_TIMEOUT,
    BodyPart,
    CommandBlock,
    Lesson,
    Step,
)
from workshop_tui.core.variables import (
    BUILTIN_VARIABLES,
    find_unsafe_placeholders,
    iter_placeholders,
)

LESSON_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
VARIABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
SHELL_LANGUAGES = ("sh", "bash", "shell")
SECTION_TITLES = {"hint": "hint", "hints": "hint", "solution": "solution"}
FRONT_MATTER_KEYS = ("id", "title", "summary", "requires", "variables")
MAX_TIMEOUT = 3600


def parse_lesson(path: Path, text: str | None = None) -> Lesson:
    """Parse the lesson file at ``path`` (or ``text`` read from it).

    Raises:
        LessonError: the file cannot be read or breaks the lesson format; every
            problem is listed with its line.
    """
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise LessonError([LessonProblem(path, 1, f"not UTF-8 text: {error.reason}")]) from None
        except OSError as error:
            raise LessonError([LessonProblem(path, 1, f"cannot read: {error.strerror}")]) from None
    return _LessonParser(path, text).parse()


def slugify(title: str) -> str:
    """Return a step id made from its title: lower case words joined by ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


@dataclass
class _StepDraft:
    title: str
    line: int  # 0-based line of the ## heading
    end: int = 0  # 0-based line where the next step starts
    skipped: set[int] = field(default_factory=set)
    commands: dict[int, tuple[int, CommandBlock]] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    check_blocks: int = 0
    """Check blocks in the step, including those that failed to parse."""
    sections: dict[str, tuple[int, int]] = field(default_factory=dict)


class _LessonParser:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text
        self.lines = text.splitlines(keepends=True)
        self.problems: list[LessonProblem] = []
        self.known_variables: set[str] = set(BUILTIN_VARIABLES)
        self.front_matter_lines: dict[object, int] = {}

    def problem(self, line: int, message: str) -> None:
        """Record a problem at a 1-based line."""
        self.problems.append(LessonProblem(self.path, max(line, 1), message))

    def parse(self) -> Lesson:
        markdown = MarkdownIt("commonmark").use(front_matter_plugin).enable("table")
        tokens = markdown.parse(self.text)
        front, body_start = self.parse_front_matter(tokens)
        variables = front.get("variables", {})
        assert isinstance(variables, dict)
        self.known_variables = set(BUILTIN_VARIABLES) | set(variables)
        steps = self.split_steps(tokens, body_start)
        unchecked = {draft.line + 1 for draft in steps if draft.commands and not draft.check_blocks}
        intro_end = steps[0].line if steps else len(self.lines)
        intro = self.intro_text(body_start, intro_end)
        lesson = Lesson(
            id=str(front.get("id", "")),
            title=str(front.get("title", "")),
            summary=str(front.get("summary", "")),
            path=self.path,
            intro=intro,
            steps=tuple(self.build_step(draft) for draft in steps),
            requires=tuple(front.get("requires", ())),  # type: ignore[arg-type]
            variables=dict(front.get("variables", {})),  # type: ignore[call-overload]
            requires_line=self.front_matter_lines.get("requires", 1),
        )
        self.check_lesson(lesson, body_start, unchecked)
        if self.problems:
            raise LessonError(
                sorted(self.problems, key=lambda problem: problem.line), partial=lesson
            )
        return lesson

    # Front matter -------------------------------------------------------------------

    def parse_front_matter(self, tokens: list[Token]) -> tuple[dict[str, object], int]:
        """Return the validated front matter and the 0-based line after it."""
        if not tokens or tokens[0].type != "front_matter" or tokens[0].map is None:
            self.problem(
                1,
                "missing front matter: start the file with a '---' line, then "
                "'id:', 'title:' and 'summary:' lines, then '---'",
            )
            return {}, 0
        token = tokens[0]
        end = token.map[1] if token.map else 0
        try:
            data = yaml.safe_load(token.content)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark
            line = mark.line + 2 if mark is not None else 1
            self.problem(line, f"invalid front matter: {error.problem}")
            return {}, end
        if not isinstance(data, dict):
            self.problem(1, "the front matter must be 'key: value' lines")
            return {}, end
        key_lines: dict[object, int] = {}
        for number, text in enumerate(self.lines[:end]):
            match = re.match(r"^([A-Za-z_][\w-]*)\s*:", text)
            if match:
                key_lines.setdefault(match.group(1), number + 1)
        self.front_matter_lines = key_lines
        return self.validate_front_matter(data, key_lines), end

    def validate_front_matter(
        self, data: dict[object, object], key_lines: dict[object, int]
    ) -> dict[str, object]:
        for key in data:
            if key not in FRONT_MATTER_KEYS:
                self.problem(
                    key_lines.get(key, 1),
                    f"unknown front matter key '{key}'; known keys: {', '.join(FRONT_MATTER_KEYS)}",
                )
        front: dict[str, object] = {}
        for key in ("id", "title", "summary"):
            value = data.get(key)
            if not isinstance(value, str) or not value.strip():
                self.problem(key_lines.get(key, 1), f"front matter needs '{key}:' with text")
            else:
                front[key] = value.strip()
        lesson_id = front.get("id")
        if isinstance(lesson_id, str) and not LESSON_ID.match(lesson_id):
            self.problem(
                key_lines.get("id", 1),
                f"id '{lesson_id}' must be lower-case letters, digits and '-'",
            )
        requires = data.get("requires", [])
        if requires is None:
            requires = []
        if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
            self.problem(key_lines.get("requires", 1), "'requires' must be a list of lesson ids")
        else:
            front["requires"] = tuple(requires)
        variables = data.get("variables", {}) or {}
        if not isinstance(variables, dict):
            self.problem(
                key_lines.get("variables", 1), "'variables' must map names to default values"
            )
        else:
            front["variables"] = self.validate_variables(variables, key_lines.get("variables", 1))
        return front

    def validate_variables(
        self, variables: dict[object, object], line: int
    ) -> dict[str, str | None]:
        valid: dict[str, str | None] = {}
        for name, default in variables.items():
            if not isinstance(name, str) or not VARIABLE_NAME.match(name):
                self.problem(
                    line, f"variable name '{name}' must be lower-case letters, digits and '_'"
                )
            elif name in BUILTIN_VARIABLES:
                self.problem(line, f"'{name}' is a built-in variable; pick another name")
            elif default is not None and not isinstance(default, str | int):
                self.problem(line, f"the default of '{name}' must be text or empty")
            else:
                valid[name] = None if default is None else str(default)
        return valid

    # Steps --------------------------------------------------------------------------

    def split_steps(self, tokens: list[Token], body_start: int) -> list[_StepDraft]:
        """Assign the top-level blocks to steps, sections, checks and commands."""
        steps: list[_StepDraft] = []
        section: tuple[str, int] | None = None  # (kind, 0-based heading line)
        for index, token in enumerate(tokens):
            if token.map is None or token.type == "front_matter":
                continue
            start = token.map[0]
            if token.type == "fence" and token.level > 0:
                if self.fence_is_special(token):
                    self.problem(
                        start + 1,
                        "run and check blocks must not be nested in a "
                        "list or a quote; put them at the start of a line",
                    )
                continue
            if token.level > 0 or token.nesting == -1:
                continue
            if token.type == "heading_open" and token.tag == "h2":
                self.close_section(steps, section, start)
                section = None
                title = tokens[index + 1].content.strip()
                if steps:
                    steps[-1].end = start
                steps.append(_StepDraft(title=title, line=start))
                continue
            if token.type == "heading_open" and token.tag == "h3" and steps:
                # A ### heading ends a hint or solution section; "Hint" and
                # "Solution" headings start one.
                self.close_section(steps, section, start)
                section = None
                title = tokens[index + 1].content.strip().lower().rstrip(":")
                if title in SECTION_TITLES:
                    section = (SECTION_TITLES[title], start)
                    continue
            if token.type == "fence":
                self.place_fence(token, steps, section)
        self.close_section(steps, section, len(self.lines))
        if steps:
            steps[-1].end = len(self.lines)
        return steps

    @staticmethod
    def fence_is_special(token: Token) -> bool:
        words = token.info.split()
        return bool(words) and (words[0] == "check" or "run" in words[1:])

    def close_section(
        self, steps: list[_StepDraft], section: tuple[str, int] | None, end: int
    ) -> None:
        if section is None or not steps:
            return
        kind, start = section
        step = steps[-1]
        if kind in step.sections:
            self.problem(start + 1, f"the step '{step.title}' already has a {kind}")
        step.sections[kind] = (start, end)
        step.skipped.update(range(start, end))

    def place_fence(
        self, token: Token, steps: list[_StepDraft], section: tuple[str, int] | None
    ) -> None:
        assert token.map is not None
        start, end = token.map
        words = token.info.split()
        if not words or (not self.fence_is_special(token) and not self.has_run_options(words)):
            return
        if not steps:
            self.problem(start + 1, "this block comes before the first '## step' heading")
            return
        if section is not None:
            self.problem(
                start + 1,
                f"run and check blocks do not belong in a {section[0]} "
                "section; a solution shows its commands in a plain ```sh block",
            )
            return
        step = steps[-1]
        if words[0] == "check":
            step.check_blocks += 1
            step.skipped.update(range(start, end))
            check = self.parse_check_fence(words, token)
            if check is not None:
                step.checks.append(check)
            return
        command = self.parse_command_fence(words, token)
        if command is not None:
            step.commands[start] = (end, command)

    @staticmethod
    def has_run_options(words: list[str]) -> bool:
        return any(word == "root" or word.startswith("timeout=") for word in words[1:])

    def parse_check_fence(self, words: list[str], token: Token) -> Check | None:
        assert token.map is not None
        line = token.map[0] + 1
        if len(words) != 2:
            self.problem(line, "a check block starts with ```check TYPE, for example ```check unit")
            return None
        try:
            return parse_check(words[1], token.content, line)
        except CheckFieldError as error:
            offset = error.line_offset
            self.problem(line if offset < 0 else line + 1 + offset, error.message)
            return None

    def parse_command_fence(self, words: list[str], token: Token) -> CommandBlock | None:
        assert token.map is not None
        line = token.map[0] + 1
        language, options = words[0], words[1:]
        if "run" not in options:
            self.problem(line, "'root' and 'timeout=' only apply to blocks marked 'run'")
            return None
        if language not in SHELL_LANGUAGES:
            self.problem(
                line, f"run blocks are shell scripts; start them with ```sh run, not ```{language}"
            )
            return None
        as_root = False
        timeout = DEFAULT_COMMAND_TIMEOUT
        for option in options:
            if option == "run":
                continue
            if option == "root":
                as_root = True
            elif option.startswith("timeout="):
                value = option.removeprefix("timeout=")
                if not value.isdigit() or not 1 <= int(value) <= MAX_TIMEOUT:
                    self.problem(
                        line,
                        f"timeout must be whole seconds from 1 to {MAX_TIMEOUT}, not '{value}'",
                    )
                    return None
                timeout = int(value)
            else:
                self.problem(
                    line,
                    f"unknown option '{option}' for a run block; "
                    "known options: run, root, timeout=SECONDS",
                )
                return None
        if not token.content.strip():
            self.problem(line, "this run block is empty")
            return None
        return CommandBlock(
            script=token.content, as_root=as_root, timeout=timeout, line=line + 1, language=language
        )

    def build_step(self, draft: _StepDraft) -> Step:
        parts: list[BodyPart] = []
        pending: list[str] = []
        pending_start = draft.line + 1
        number = draft.line + 1
        while number < draft.end:
            if number in draft.commands:
                if pending:
                    parts.append(BodyPart("markdown", "".join(pending), pending_start + 1))
                    pending = []
                end, command = draft.commands[number]
                parts.append(BodyPart("command", command.script, number + 1, command))
                number = end
                continue
            if number not in draft.skipped:
                if not pending:
                    pending_start = number
                pending.append(self.lines[number])
            number += 1
        if pending:
            parts.append(BodyPart("markdown", "".join(pending), pending_start + 1))
        return Step(
            id=slugify(draft.title) or f"step-{draft.line + 1}",
            title=draft.title,
            line=draft.line + 1,
            parts=tuple(part for part in parts if part.kind == "command" or part.text.strip()),
            commands=tuple(
                command
                for _, command in sorted(draft.commands.values(), key=lambda item: item[1].line)
            ),
            checks=tuple(draft.checks),
            hint=self.section_text(draft, "hint"),
            solution=self.section_text(draft, "solution"),
        )

    def section_text(self, draft: _StepDraft, kind: str) -> str | None:
        if kind not in draft.sections:
            return None
        start, end = draft.sections[kind]
        raw = "".join(self.lines[start + 1 : end])
        if not raw.strip():
            self.problem(start + 1, f"the {kind} section of '{draft.title}' is empty")
            return None
        self.check_placeholders(raw, start + 2, self.known_variables, in_prose=True)
        return raw.strip() + "\n"

    def intro_text(self, start: int, end: int) -> str:
        lines = self.lines[start:end]
        while lines and not lines[0].strip():
            lines.pop(0)
        if lines and lines[0].startswith("# "):
            lines.pop(0)
        return "".join(lines).strip() + "\n" if "".join(lines).strip() else ""

    # Whole-lesson rules -------------------------------------------------------------

    def check_lesson(self, lesson: Lesson, body_start: int, unchecked: set[int]) -> None:
        if not lesson.steps:
            self.problem(
                body_start + 1, "the lesson has no steps; each step starts with a '## ' heading"
            )
        known = self.known_variables
        self.check_placeholders(lesson.intro, body_start + 1, known, in_prose=True)
        seen: dict[str, int] = {}
        for step in lesson.steps:
            if step.id in seen:
                self.problem(
                    step.line,
                    f"two steps are called '{step.title}' (first at line "
                    f"{seen[step.id]}); step titles must differ",
                )
            seen.setdefault(step.id, step.line)
            if not step.title:
                self.problem(step.line, "this step heading has no title")
            if step.line in unchecked:
                self.problem(
                    step.line,
                    f"the step '{step.title}' runs commands but has no "
                    "check; add a ```check block so the attendee can see it worked",
                )
            for part in step.parts:
                if part.command is None:
                    self.check_placeholders(part.text, part.line, known, in_prose=True)
            for command in step.commands:
                self.check_placeholders(command.script, command.line, known, in_prose=False)
            for check in step.checks:
                for name in sorted(check.variables_used() - known):
                    self.problem(check.line, f"undefined variable {{{{ {name} }}}}")
                # Only a command check's script is pasted into the shell as written; the
                # other check types quote every value they put into their scripts.
                if isinstance(check, CommandCheck):
                    self.check_unsafe(check.run, check.line + 1)

    def check_placeholders(self, text: str, line: int, known: set[str], *, in_prose: bool) -> None:
        for placeholder in iter_placeholders(text):
            if placeholder.name not in known:
                self.problem(
                    line + placeholder.line_offset,
                    f"undefined variable {{{{ {placeholder.name} }}}}; known: "
                    f"{', '.join(sorted(known))}",
                )
        if not in_prose:
            self.check_unsafe(text, line)

    def check_unsafe(self, script: str, line: int) -> None:
        for unsafe in find_unsafe_placeholders(script):
            placeholder = unsafe.placeholder
            self.problem(
                line + placeholder.line_offset,
                f"{{{{ {placeholder.name} }}}} is inside {unsafe.context}; write it as "
                "a word of its own, because the app quotes the value for the shell",
            )
