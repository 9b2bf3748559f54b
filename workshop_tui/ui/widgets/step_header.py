"""The step screen's top line: lesson, step number and title, login and connection state."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.events import Resize
from textual.widgets import Static

LinkState = Literal["connected", "reconnecting", "offline"]

LINK_LABELS: Mapping[LinkState, tuple[str, str]] = {
    "connected": ("● connected", "$success"),
    "reconnecting": ("◌ reconnecting", "$warning"),
    "offline": ("○ offline", "$error"),
}

HAND_LABEL: tuple[str, str] = ("✋ Help requested", "bold $warning")
"""Shown before the link while the attendee's hand is raised. It is never shortened, so
at narrow widths the step title gives way to it."""

LinkDetail = Literal["target", "state", "dot"]
"""How much of the link to show: target and state, the state alone, or only its symbol."""

FULL = sys.maxsize
"""A minimum width that only the whole text meets."""

GAP = 2
"""Cells between the step and the link, set as the ``padding-left`` of ``#link``."""


@dataclass(frozen=True)
class HeaderLayout:
    """Parts of the header to show, and the minimum width of each title.

    A minimum above the title's own width leaves the title whole, so ``FULL`` means
    "not shortened".
    """

    lesson_min: int | None
    """Narrowest lesson title in cells, or None to leave the lesson title out."""

    title_min: int
    """Narrowest step title in cells."""

    link: LinkDetail


LAYOUTS = (
    HeaderLayout(lesson_min=12, title_min=32, link="target"),
    HeaderLayout(lesson_min=12, title_min=FULL, link="state"),
    HeaderLayout(lesson_min=None, title_min=FULL, link="state"),
    HeaderLayout(lesson_min=None, title_min=FULL, link="dot"),
)
"""Layouts from the most complete to the most compact. The first that fits is used.

Shortening the lesson title comes first, then leaving out the login target and the
lesson title, then reducing the state to its symbol. The step number and total stay in
every layout.
"""

FALLBACK = HeaderLayout(lesson_min=None, title_min=0, link="dot")
"""Layout for widths where not even the whole step title fits. The CSS of ``#where``
then cuts the title with an ellipsis, which keeps the step number in view down to
about 20 columns."""


@dataclass(frozen=True)
class HeaderText:
    """Contents of the header, before :func:`fit_header` fits them to the width."""

    lesson_title: str
    number: int
    total: int
    step_title: str
    target: str
    state: LinkState
    hand_raised: bool = False


def link_content(
    target: str, state: LinkState, detail: LinkDetail, *, hand_raised: bool = False
) -> Content:
    """Return the right half of the header: ``target ● connected``, ``● connected`` or ``●``.

    A raised hand puts ``HAND_LABEL`` in front.
    """
    label, style = LINK_LABELS[state]
    if detail == "dot":
        label = label.split(" ", 1)[0]
    hand: list[str | tuple[str, str]] = [HAND_LABEL, "  "] if hand_raised else []
    if detail == "target":
        return Content.assemble(*hand, f"{target} ", (label, style))
    return Content.assemble(*hand, (label, style))


def fit_header(text: HeaderText, width: int) -> tuple[Content, Content]:
    """Return the left and right halves of the header for ``width`` cells.

    The first layout of ``LAYOUTS`` whose minimum widths fit is used. Its step title
    gets as much of the remaining room as it needs before the lesson title gets the rest.
    """
    lesson = Content(text.lesson_title)
    title = Content(text.step_title)
    step = Content(f"Step {text.number} of {text.total}: ")
    separator = Content(" · ")
    for layout in (*LAYOUTS, FALLBACK):
        link = link_content(text.target, text.state, layout.link, hand_raised=text.hand_raised)
        fixed = step.cell_length + GAP + link.cell_length
        lesson_min = 0
        if layout.lesson_min is not None:
            fixed += separator.cell_length
            lesson_min = min(lesson.cell_length, layout.lesson_min)
        title_min = min(title.cell_length, layout.title_min)
        if fixed + lesson_min + title_min <= width or layout is FALLBACK:
            break
    title_width = min(title.cell_length, width - fixed - lesson_min)
    if layout is FALLBACK:
        title_width = title.cell_length
    parts: list[Content] = []
    if layout.lesson_min is not None:
        lesson_width = min(lesson.cell_length, width - fixed - title_width)
        parts += [lesson.truncate(lesson_width, ellipsis=True).stylize("bold"), separator]
    parts += [step, title.truncate(title_width, ellipsis=True).stylize("bold")]
    return Content.assemble(*parts), link


class StepHeader(Horizontal):
    """Where the attendee is, on the left, and which server and link state, on the right.

    The parts are shortened or left out to fit the width, as :func:`fit_header` describes.
    """

    DEFAULT_CSS = f"""
    StepHeader {{ height: 1; background: $panel; padding: 0 1; }}
    StepHeader #where {{ width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }}
    StepHeader #link {{ width: auto; padding-left: {GAP}; }}
    """

    def __init__(self) -> None:
        super().__init__()
        self.text = HeaderText("", 0, 0, "", "", "offline")

    def compose(self) -> ComposeResult:
        yield Static(id="where")
        yield Static(id="link")

    def show_step(self, lesson_title: str, number: int, total: int, step_title: str) -> None:
        """Show ``Lesson · Step 3 of 6: Title``, shortened to fit."""
        self.text = replace(
            self.text,
            lesson_title=lesson_title,
            number=number,
            total=total,
            step_title=step_title,
        )
        self._update()

    def show_link(self, target: str, state: LinkState) -> None:
        """Show the login target and the connection state in its colour, as room allows."""
        self.text = replace(self.text, target=target, state=state)
        self._update()

    def show_hand(self, raised: bool) -> None:
        """Show or hide that the attendee asked a facilitator for help."""
        if raised != self.text.hand_raised:
            self.text = replace(self.text, hand_raised=raised)
            self._update()

    def on_resize(self, event: Resize) -> None:
        self._update()

    def _update(self) -> None:
        # Before the first layout the width is 0, so show everything until a Resize arrives.
        width = self.content_size.width or FULL
        where, link = fit_header(self.text, width)
        self.query_one("#where", Static).update(where)
        self.query_one("#link", Static).update(link)
