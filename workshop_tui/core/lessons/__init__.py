"""Lessons: Markdown files with steps, commands and checks."""

from workshop_tui.core.lessons.catalog import Catalog, default_lessons_dir, load_catalog
from workshop_tui.core.lessons.model import BodyPart, CommandBlock, Lesson, Step
from workshop_tui.core.lessons.parser import parse_lesson

__all__ = [
    "BodyPart",
    "Catalog",
    "CommandBlock",
    "Lesson",
    "Step",
    "default_lessons_dir",
    "load_catalog",
    "parse_lesson",
]
