"""The step screen's top line: what stays visible as the terminal gets narrower."""

from __future__ import annotations

from pathlib import Path

import pytest

from workshop_tui.ui.widgets.step_header import HeaderText, fit_header

from .conftest import AppMaker
from .fakes import FakeSession, write_long_titles_catalog
from .helpers import screen_text, settle

LONG = HeaderText(
    lesson_title="Postfix, your own mail server",
    number=2,
    total=6,
    step_title="Answer the installer's questions in advance",
    target="root@203.0.113.10",
    state="connected",
)


def header_line(text: HeaderText, width: int) -> str:
    where, link = fit_header(text, width)
    return f"{where.plain}  {link.plain}"


def test_header_shows_all_when_room() -> None:
    assert header_line(LONG, 160) == (
        "Postfix, your own mail server · Step 2 of 6: Answer the installer's questions "
        "in advance  root@203.0.113.10 ● connected"
    )


def test_header_shortens_titles_first() -> None:
    # 98 cells are the inside of a 100-column header.
    line = header_line(LONG, 98)
    assert line == (
        "Postfix, yo… · Step 2 of 6: Answer the installer's questions in ad…  "
        "root@203.0.113.10 ● connected"
    )
    assert len(line) == 98


def test_header_drops_lesson_and_target() -> None:
    assert header_line(LONG, 78) == (
        "Step 2 of 6: Answer the installer's questions in advance  ● connected"
    )


def test_header_shrinks_state_to_dot() -> None:
    assert header_line(LONG, 60) == "Step 2 of 6: Answer the installer's questions in advance  ●"


@pytest.mark.parametrize(
    ("state", "dot"), [("connected", "●"), ("reconnecting", "◌"), ("offline", "○")]
)
def test_header_dot_per_state(state: str, dot: str) -> None:
    text = HeaderText(LONG.lesson_title, 2, 6, LONG.step_title, LONG.target, state)  # type: ignore[arg-type]
    assert header_line(text, 40).endswith(f"  {dot}")


def test_header_never_fits_keeps_whole() -> None:
    # Below the narrowest layout the title is left whole for the CSS ellipsis to cut.
    where, _ = fit_header(LONG, 30)
    assert where.plain == "Step 2 of 6: Answer the installer's questions in advance"


@pytest.mark.parametrize(
    ("size", "left"),
    [
        ((80, 24), " Step 1 of 2: Answer the installer's questions in advance"),
        ((100, 30), " Postfix, yo… · Step 1 of 2: Answer the installer's questions in ad…"),
        (
            (160, 45),
            " Postfix, your own mail server · Step 1 of 2: Answer the installer's questions in "
            "advance",
        ),
    ],
)
async def test_header_at_terminal_size(
    make_app: AppMaker,
    session: FakeSession,
    tmp_path: Path,
    size: tuple[int, int],
    left: str,
) -> None:
    lessons = write_long_titles_catalog(tmp_path / "long")
    session.progress.current_lesson = "postfix-server"
    app = make_app(lessons=lessons)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        header = screen_text(pilot).splitlines()[0]
        assert header.startswith(left), header
        assert header.endswith("● connected"), header
        assert ("root@203.0.113.10" in header) == (size[0] >= 100), header
