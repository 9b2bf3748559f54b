"""TeamPoller against a fake VPS: one exec per refresh, failures, keys, progress and output."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from workshop_tui.core.board import poll
from workshop_tui.core.board.poll import TeamPoller
from workshop_tui.core.board.reading import OUTPUT_TAIL_BYTES
from workshop_tui.core.hostkeys import KnownHosts
from workshop_tui.core.lessons import Catalog, Lesson
from workshop_tui.core.roster import Team

from .fakes import (
    OTHER_FINGERPRINT,
    PASSWORD,
    SEEN_FINGERPRINT,
    FakeVps,
    connection_factory,
    make_team,
    progress_at,
    write_lessons,
)

INSTALL = "install-the-tool"
CONFIGURE = "configure-the-tool"


@pytest.fixture
def vps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeVps:
    home = tmp_path / "home"
    home.mkdir()
    fake = FakeVps(home=home)
    monkeypatch.setattr(poll, "Connection", connection_factory(fake))
    return fake


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    return write_lessons(tmp_path / "lessons")


@pytest.fixture
def basics(catalog: Catalog) -> Lesson:
    lesson = catalog.get("basics")
    assert lesson is not None
    return lesson


@pytest.fixture
def make_poller(catalog: Catalog, tmp_path: Path) -> Callable[..., TeamPoller]:
    def make(team: Team | None = None, roster: Path | None = None, **variables: str) -> TeamPoller:
        return TeamPoller(
            team or make_team(),
            list(catalog),
            known_hosts=KnownHosts(tmp_path / "known_hosts"),
            variables=variables,
            connect_timeout=5,
            roster=roster,
        )

    return make


def test_steady_refresh_is_one_exec(vps: FakeVps, make_poller: Callable[..., TeamPoller]) -> None:
    vps.write_progress(progress_at("basics", INSTALL, {"install-the-tool": "ran"}))
    poller = make_poller()
    first = poller.refresh()
    # open's own exec, the host facts, one read, and one more read because the
    # progress file named a lesson that the first read did not know yet.
    assert first.round_trips == 4
    steady = poller.refresh()
    assert steady.reach == "online"
    assert steady.round_trips == 1
    # The SMTP check of the install step ran during the first refresh and waits for
    # its spacing, so a steady refresh opens no tunnel.
    assert steady.tunnels == 0
    assert steady.lesson_id == "basics"


def test_protocol_check_spaced_out(vps: FakeVps, make_poller: Callable[..., TeamPoller]) -> None:
    vps.write_progress(progress_at("basics", INSTALL, {INSTALL: "failed"}))
    poller = make_poller()
    poller.refresh()
    again = poller.refresh()
    assert again.tunnels == 0
    assert not again.results[INSTALL][1].passed
    poller._checks.protocol_results.spacing = 0
    vps.smtp_answers = True
    later = poller.refresh()
    assert later.tunnels == 1
    assert later.results[INSTALL][1].passed


def test_initial_snapshot_is_connecting(make_poller: Callable[..., TeamPoller]) -> None:
    poller = make_poller()
    assert poller.snapshot.reach == "connecting"


def test_current_step_failing_with_reason(
    vps: FakeVps, make_poller: Callable[..., TeamPoller], basics: Lesson
) -> None:
    vps.write_progress(progress_at("basics", INSTALL, {INSTALL: "failed"}))
    poller = make_poller()
    snapshot = poller.refresh()
    install = basics.steps[1]
    assert snapshot.cell(basics, install) == "failing"
    reasons = [result.reason for result in snapshot.results[INSTALL]]
    assert reasons[0] == "`test -f installed` exited with status 1, expected 0"
    assert reasons[1] == "nothing listens on 127.0.0.1:25: the connection was refused"


def test_passed_step_shows_done(
    vps: FakeVps, make_poller: Callable[..., TeamPoller], basics: Lesson
) -> None:
    vps.write_progress(progress_at("basics", CONFIGURE, {INSTALL: "passed"}))
    (vps.home / "installed").touch()
    snapshot = make_poller().refresh()
    assert INSTALL not in snapshot.results
    assert snapshot.cell(basics, basics.steps[1]) == "done"
    assert snapshot.cell(basics, basics.steps[2]) == "current"
    assert snapshot.cell(basics, basics.steps[3]) == "not_started"


def test_passed_step_stays_done_when_undone(
    vps: FakeVps, make_poller: Callable[..., TeamPoller], basics: Lesson
) -> None:
    # A later step may undo an earlier one on purpose, such as stopping Postfix to
    # show the queue and starting it again. The earlier step stays done.
    vps.write_progress(progress_at("basics", CONFIGURE, {INSTALL: "passed"}))
    poller = make_poller()
    assert poller.refresh().cell(basics, basics.steps[1]) == "done"
    assert poller.refresh().cell(basics, basics.steps[1]) == "done"


def test_failed_earlier_step_still_checked(
    vps: FakeVps, make_poller: Callable[..., TeamPoller], basics: Lesson
) -> None:
    vps.write_progress(progress_at("basics", CONFIGURE, {INSTALL: "failed"}))
    poller = make_poller()
    assert poller.refresh().cell(basics, basics.steps[1]) == "failing"
    (vps.home / "installed").touch()
    vps.smtp_answers = True
    poller._checks.protocol_results.spacing = 0
    assert poller.refresh().cell(basics, basics.steps[1]) == "done"


def test_missing_variable_fails_one_check(
    vps: FakeVps, make_poller: Callable[..., TeamPoller]
) -> None:
    vps.write_progress(progress_at("basics", CONFIGURE))
    (vps.home / "tool.conf").write_text("ok\n")
    snapshot = make_poller().refresh()
    configured, partner = snapshot.results[CONFIGURE]
    assert configured.passed
    assert not partner.passed
    assert partner.reason == "not checked: the board has no value for {{ partner_host }}"


def test_roster_variables_reach_checks(
    vps: FakeVps, make_poller: Callable[..., TeamPoller]
) -> None:
    vps.write_progress(progress_at("basics", CONFIGURE))
    snapshot = make_poller(partner_host="10.0.0.9").refresh()
    assert snapshot.results[CONFIGURE][1].passed


def test_unreachable_keeps_old_data(vps: FakeVps, make_poller: Callable[..., TeamPoller]) -> None:
    vps.write_progress(progress_at("basics", INSTALL, {INSTALL: "failed"}))
    poller = make_poller()
    good = poller.refresh()
    vps.link_up = False
    lost = poller.refresh()
    assert lost.reach == "unreachable"
    assert lost.problem is not None
    assert lost.progress == good.progress
    assert lost.results == good.results
    assert lost.polled_at == good.polled_at


def test_unreachable_then_online_again(
    vps: FakeVps, make_poller: Callable[..., TeamPoller]
) -> None:
    vps.write_progress(progress_at("basics", INSTALL))
    poller = make_poller()
    poller.refresh()
    vps.link_up = False
    assert poller.refresh().reach == "unreachable"
    assert poller.refresh().reach == "unreachable"
    vps.link_up = True
    back = poller.refresh()
    assert back.reach == "online"
    assert back.problem is None


def test_first_connect_unreachable(vps: FakeVps, make_poller: Callable[..., TeamPoller]) -> None:
    vps.link_up = False
    snapshot = make_poller().refresh()
    assert snapshot.reach == "unreachable"
    assert snapshot.polled_at is None


def test_silent_server_is_unreachable(vps: FakeVps, make_poller: Callable[..., TeamPoller]) -> None:
    vps.write_progress(progress_at("basics", INSTALL))
    poller = make_poller()
    good = poller.refresh()
    vps.hangs = True
    silent = poller.refresh()
    assert silent.reach == "unreachable"
    assert silent.progress == good.progress


def test_changed_key_is_refused(vps: FakeVps, make_poller: Callable[..., TeamPoller]) -> None:
    vps.key = "changed"
    snapshot = make_poller().refresh()
    assert snapshot.reach == "refused"
    assert snapshot.problem is not None
    assert "does not match" in snapshot.problem


def test_new_key_not_in_roster_is_refused(
    vps: FakeVps, make_poller: Callable[..., TeamPoller]
) -> None:
    vps.key = "new"
    snapshot = make_poller(make_team(host_keys=(OTHER_FINGERPRINT,))).refresh()
    assert snapshot.reach == "refused"
    problem = snapshot.problem or ""
    assert "team team-1" in problem
    assert "203.0.113.21" in problem
    assert SEEN_FINGERPRINT in problem
    assert OTHER_FINGERPRINT in problem
    assert "roster" in problem


def test_new_key_in_roster_is_accepted(
    vps: FakeVps, make_poller: Callable[..., TeamPoller]
) -> None:
    vps.key = "new"
    team = make_team(host_keys=(OTHER_FINGERPRINT, SEEN_FINGERPRINT))
    assert make_poller(team).refresh().reach == "online"


def test_known_key_not_in_roster_is_refused(
    vps: FakeVps, make_poller: Callable[..., TeamPoller]
) -> None:
    snapshot = make_poller(make_team(host_keys=(OTHER_FINGERPRINT,))).refresh()
    assert snapshot.reach == "refused"
    assert SEEN_FINGERPRINT in (snapshot.problem or "")


def test_new_key_trusted_without_roster_keys(
    vps: FakeVps, make_poller: Callable[..., TeamPoller]
) -> None:
    vps.key = "new"
    assert make_poller().refresh().reach == "online"


def test_rejected_login_is_refused(vps: FakeVps, make_poller: Callable[..., TeamPoller]) -> None:
    vps.password_accepted = False
    snapshot = make_poller().refresh()
    assert snapshot.reach == "refused"
    assert PASSWORD not in (snapshot.problem or "")


def test_rejected_login_names_roster_entry(
    vps: FakeVps, make_poller: Callable[..., TeamPoller]
) -> None:
    vps.password_accepted = False
    problem = make_poller(roster=Path("rooms/roster.toml")).refresh().problem or ""
    assert problem.startswith(
        "203.0.113.21 rejected the login of team team-1 as learner "
        "(tried: password; the server accepts: publickey, password)."
    )
    assert problem.endswith("Check the user and password of team team-1 in rooms/roster.toml:7.")
    assert "slip" not in problem
    assert PASSWORD not in problem


def test_rejected_login_without_password_method(
    vps: FakeVps, make_poller: Callable[..., TeamPoller]
) -> None:
    vps.password_accepted = False
    vps.accepted_methods = ("publickey",)
    problem = make_poller(roster=Path("roster.toml")).refresh().problem or ""
    assert "(tried: password; the server accepts: publickey)" in problem
    assert "does not accept passwords: give team team-1 a key_file" in problem
    assert "roster.toml:7" in problem


def test_rejected_login_not_retried_at_once(
    vps: FakeVps, make_poller: Callable[..., TeamPoller]
) -> None:
    vps.password_accepted = False
    poller = make_poller()
    refused = poller.refresh()
    vps.password_accepted = True
    again = poller.refresh()
    assert again.reach == "refused"
    assert again.round_trips == 0
    assert again.problem == refused.problem


def test_rejected_login_retried_later(
    vps: FakeVps, make_poller: Callable[..., TeamPoller], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(poll, "LOGIN_RETRY_SECONDS", 0.0)
    vps.password_accepted = False
    poller = make_poller()
    assert poller.refresh().reach == "refused"
    vps.password_accepted = True
    assert poller.refresh().reach == "online"


def test_changed_key_retries_next_refresh(
    vps: FakeVps, make_poller: Callable[..., TeamPoller]
) -> None:
    vps.key = "changed"
    poller = make_poller()
    assert poller.refresh().reach == "refused"
    vps.key = "known"
    assert poller.refresh().reach == "online"


def test_malformed_progress_is_a_problem(
    vps: FakeVps, make_poller: Callable[..., TeamPoller]
) -> None:
    vps.write_raw_progress('{"format": 1, "written_at": "yesterday"')
    snapshot = make_poller().refresh()
    assert snapshot.reach == "online"
    assert snapshot.problem is not None
    assert "progress.json" in snapshot.problem
    assert snapshot.progress is None


def test_malformed_progress_keeps_old_position(
    vps: FakeVps, make_poller: Callable[..., TeamPoller]
) -> None:
    vps.write_progress(progress_at("basics", INSTALL))
    poller = make_poller()
    good = poller.refresh()
    vps.write_raw_progress('{"format": 1, "written_at": 5, "lessons": []}')
    broken = poller.refresh()
    assert broken.reach == "online"
    assert "lessons" in (broken.problem or "")
    assert broken.progress == good.progress


def test_missing_progress_file(vps: FakeVps, make_poller: Callable[..., TeamPoller]) -> None:
    snapshot = make_poller().refresh()
    assert snapshot.reach == "online"
    assert snapshot.progress is None
    assert snapshot.problem is None
    assert snapshot.round_trips == 3


def test_lesson_switch_catches_up(vps: FakeVps, make_poller: Callable[..., TeamPoller]) -> None:
    vps.write_progress(progress_at("basics", INSTALL))
    poller = make_poller()
    poller.refresh()
    vps.write_progress(progress_at("second", "write-a-note"))
    (vps.home / "note").touch()
    switched = poller.refresh()
    assert switched.lesson_id == "second"
    assert switched.results["write-a-note"][0].passed
    assert switched.round_trips == 2


def test_unknown_lesson_is_a_problem(vps: FakeVps, make_poller: Callable[..., TeamPoller]) -> None:
    vps.write_progress(progress_at("dovecot", "install-dovecot"))
    snapshot = make_poller().refresh()
    assert snapshot.reach == "online"
    assert "dovecot" in (snapshot.problem or "")
    assert snapshot.lesson_id is None


def test_progress_of_other_team_is_a_problem(
    vps: FakeVps, make_poller: Callable[..., TeamPoller]
) -> None:
    vps.write_progress(progress_at("basics", INSTALL), team="team-9")
    snapshot = make_poller().refresh()
    assert "team-9" in (snapshot.problem or "")


def test_last_output_of_current_run(vps: FakeVps, make_poller: Callable[..., TeamPoller]) -> None:
    record = vps.write_run("20250101T000000Z-aa", "Reading package lists...\nDone\n", "W: slow\n")
    vps.write_progress(progress_at("basics", INSTALL, {INSTALL: "ran"}, {INSTALL: record}))
    snapshot = make_poller().refresh()
    assert snapshot.last_output == "Reading package lists...\nDone\n--- stderr ---\nW: slow"


def test_last_output_is_limited(vps: FakeVps, make_poller: Callable[..., TeamPoller]) -> None:
    lines = "".join(f"line {number}\n" for number in range(5000))
    record = vps.write_run("20250101T000000Z-bb", lines)
    vps.write_progress(progress_at("basics", INSTALL, {INSTALL: "ran"}, {INSTALL: record}))
    output = make_poller().refresh().last_output
    assert len(output) <= OUTPUT_TAIL_BYTES
    assert output.endswith("line 4999")
    assert output.startswith("line ")


def test_new_run_catches_up(vps: FakeVps, make_poller: Callable[..., TeamPoller]) -> None:
    vps.write_progress(progress_at("basics", INSTALL))
    poller = make_poller()
    poller.refresh()
    record = vps.write_run("20250101T000000Z-cc", "started\n")
    vps.write_progress(progress_at("basics", INSTALL, {INSTALL: "ran"}, {INSTALL: record}))
    snapshot = poller.refresh()
    assert snapshot.last_output == "started"
    assert snapshot.round_trips == 2


def test_sudo_failure_keeps_team_online(
    vps: FakeVps, make_poller: Callable[..., TeamPoller]
) -> None:
    vps.write_progress(progress_at("basics", "check-as-root"))
    vps.sudo_works = False
    poller = make_poller()
    poller.refresh()
    snapshot = poller.refresh()
    assert snapshot.reach == "online"
    assert "sudo rejected" in (snapshot.problem or "")
    root_check = snapshot.results["check-as-root"][0]
    assert not root_check.passed
    assert "sudo rejected" in root_check.reason


def test_sudo_failure_not_retried_at_once(
    vps: FakeVps, make_poller: Callable[..., TeamPoller]
) -> None:
    vps.write_progress(progress_at("basics", "check-as-root"))
    vps.sudo_works = False
    poller = make_poller()
    poller.refresh()
    tried = vps.root_execs
    snapshot = poller.refresh()
    assert vps.root_execs == tried
    assert snapshot.round_trips == 1


def test_closed_poller_does_not_connect(
    vps: FakeVps, make_poller: Callable[..., TeamPoller]
) -> None:
    poller = make_poller()
    poller.close()
    snapshot = poller.refresh()
    assert snapshot.reach == "connecting"
    assert vps.execs == []
