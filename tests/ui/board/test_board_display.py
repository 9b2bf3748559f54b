"""Durations, check titles, the room's lesson and the status of a team, without the app."""

from __future__ import annotations

import pytest

from workshop_tui.ui.board.display import display_text, format_duration, room_lesson, team_status

from .conftest import Room
from .fakes import NOW, snapshot


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0, "0:00"), (7.9, "0:07"), (65, "1:05"), (3599, "59:59"), (3600, "1:00 h"), (4500, "1:15 h")],
)
def test_format_duration(seconds: float, expected: str) -> None:
    assert format_duration(seconds) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A mail for {{ user }} arrived", "A mail for alice arrived"),
        ("Postfix calls itself {{domain}}", "Postfix calls itself domain"),
        ("Odd {{ 1x }} braces", "Odd  1x  braces"),
        ("No variables", "No variables"),
    ],
)
def test_display_text(text: str, expected: str) -> None:
    assert display_text(text, {"user": "alice"}) == expected


def test_room_lesson_counts_teams(room: Room) -> None:
    first, second = room.lessons
    teams = room.roster.teams
    snapshots = [
        snapshot(teams[0], first, at=0),
        snapshot(teams[1], second, at=0),
        snapshot(teams[2], second, at=0),
    ]
    assert room_lesson(snapshots, room.lessons) == second


def test_room_lesson_tie_goes_to_earlier(room: Room) -> None:
    first, second = room.lessons
    teams = room.roster.teams
    snapshots = [snapshot(teams[0], second, at=0), snapshot(teams[1], first, at=0)]
    assert room_lesson(snapshots, room.lessons) == first


def test_room_lesson_without_progress(room: Room) -> None:
    assert room_lesson([], room.lessons) == room.lessons[0]
    assert room_lesson([], []) is None


def test_status_stale_after_three_rounds(room: Room) -> None:
    team = room.roster.teams[0]
    fresh = snapshot(team, room.lesson, at=0, polled_at=NOW - 15)
    old = snapshot(team, room.lesson, at=0, polled_at=NOW - 16)
    assert team_status(fresh, NOW, stale_after=15, down_since=None).kind == "online"
    assert team_status(old, NOW, stale_after=15, down_since=None).label == "STALE 0:16"


def test_status_unreachable_counts_from_last_read(room: Room) -> None:
    team = room.roster.teams[0]
    down = snapshot(team, room.lesson, at=0, reach="unreachable", polled_at=NOW - 600)
    status = team_status(down, NOW, stale_after=15, down_since=NOW - 75)
    assert status.kind == "unreachable"
    assert status.label.strip() == "UNREACHABLE 10:00"


def test_status_never_read_counts_from_first_failure(room: Room) -> None:
    team = room.roster.teams[0]
    down = snapshot(team, room.lesson, at=0, reach="refused", polled_at=None)
    status = team_status(down, NOW, stale_after=15, down_since=NOW - 75)
    assert status.kind == "refused"
    assert status.label.strip() == "REFUSED 1:15"


def test_status_time_grows_from_stale_to_unreachable(room: Room) -> None:
    # The data was read 19 s ago; the refresh that ends now fails.
    team = room.roster.teams[0]
    stale = snapshot(team, room.lesson, at=0, polled_at=NOW - 19)
    down = snapshot(team, room.lesson, at=0, reach="unreachable", polled_at=NOW - 19)
    before = team_status(stale, NOW, stale_after=15, down_since=None)
    after = team_status(down, NOW + 1, stale_after=15, down_since=NOW + 1)
    assert before.label == "STALE 0:19"
    assert after.label.strip() == "UNREACHABLE 0:20"
