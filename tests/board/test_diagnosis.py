"""Diagnosis on the board: when it is due, one extra exec as root, problems and the password."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from workshop_tui.core.board import poll
from workshop_tui.core.board.diagnosis import (
    DIAGNOSIS_SPACING,
    diagnosis_due,
    failing_checks,
)
from workshop_tui.core.board.poll import TeamPoller
from workshop_tui.core.hostkeys import KnownHosts
from workshop_tui.core.lessons import Catalog
from workshop_tui.core.login import REDACTED

from .fakes import (
    MAIL_LOG_HISTORY,
    NO_MAIL_LOG,
    PASSWORD,
    FakeVps,
    connection_factory,
    make_team,
    progress_at,
    serve_evidence,
    write_lessons,
)

CONFIGURE = "configure-the-tool"
NOW = 1_764_900_000.0


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
def make_poller(catalog: Catalog, tmp_path: Path) -> Callable[[], TeamPoller]:
    def make() -> TeamPoller:
        known_hosts = KnownHosts(tmp_path / "known_hosts")
        return TeamPoller(make_team(), list(catalog), known_hosts=known_hosts, connect_timeout=5)

    return make


def failing(vps: FakeVps) -> None:
    """Put the attendee on the configure step, which was checked and fails."""
    vps.write_progress(progress_at("basics", CONFIGURE, {CONFIGURE: "failed"}))


def test_due_only_with_failing_checks(
    vps: FakeVps, make_poller: Callable[[], TeamPoller], catalog: Catalog
) -> None:
    poller = make_poller()
    vps.write_progress(progress_at("basics", "read-the-plan"))
    passing = poller.refresh()
    assert failing_checks(passing, catalog) == []
    assert not diagnosis_due(passing, catalog, None, NOW)
    failing(vps)
    poller.refresh()  # reads the new position; the next refresh runs its checks
    snapshot = poller.refresh()
    assert failing_checks(snapshot, catalog)
    assert diagnosis_due(snapshot, catalog, None, NOW)
    unreachable = dataclasses.replace(snapshot, reach="unreachable")
    assert not diagnosis_due(unreachable, catalog, None, NOW)


def test_due_at_most_every_spacing(
    vps: FakeVps, make_poller: Callable[[], TeamPoller], catalog: Catalog
) -> None:
    failing(vps)
    snapshot = make_poller().refresh()
    assert not diagnosis_due(snapshot, catalog, NOW, NOW)
    assert not diagnosis_due(snapshot, catalog, NOW, NOW + DIAGNOSIS_SPACING - 0.5)
    assert diagnosis_due(snapshot, catalog, NOW, NOW + DIAGNOSIS_SPACING)
    # A clock that went back does not stop the diagnosis for good.
    assert diagnosis_due(snapshot, catalog, NOW, NOW - 5)


def test_diagnosis_is_one_extra_exec_as_root(
    vps: FakeVps, make_poller: Callable[[], TeamPoller], monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_evidence(monkeypatch, NO_MAIL_LOG)
    failing(vps)
    poller = make_poller()
    poller.refresh()
    assert poller.refresh().round_trips == 1
    root_before, execs_before = vps.root_execs, len(vps.execs)
    found = poller.diagnose()
    assert found is not None
    assert found.round_trips == 1
    assert len(vps.execs) - execs_before == 1
    assert vps.root_execs - root_before == 1
    # The refreshes around it keep their one exec, and the snapshot does not count it.
    assert poller.snapshot.round_trips == 1
    assert poller.refresh().round_trips == 1


def test_findings_hide_password(
    vps: FakeVps, make_poller: Callable[[], TeamPoller], monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_evidence(monkeypatch, NO_MAIL_LOG)
    failing(vps)
    poller = make_poller()
    poller.refresh()
    found = poller.diagnose()
    assert found is not None
    assert found.problem is None
    [finding] = found.findings
    assert finding.rule == "mail-log-missing"
    assert MAIL_LOG_HISTORY.replace(PASSWORD, REDACTED) in finding.evidence
    assert all(PASSWORD not in text for text in (finding.hint, *finding.evidence))


def test_nothing_known_found(
    vps: FakeVps, make_poller: Callable[[], TeamPoller], monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_evidence(monkeypatch, {})
    failing(vps)
    poller = make_poller()
    poller.refresh()
    found = poller.diagnose()
    assert found is not None
    assert (found.findings, found.problem, found.round_trips) == ((), None, 1)


def test_no_diagnosis_without_failing_checks(
    vps: FakeVps, make_poller: Callable[[], TeamPoller], monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_evidence(monkeypatch, NO_MAIL_LOG)
    vps.write_progress(progress_at("basics", "read-the-plan"))
    poller = make_poller()
    poller.refresh()
    execs = len(vps.execs)
    assert poller.diagnose() is None
    assert len(vps.execs) == execs


def test_sudo_refused_is_a_short_line(
    vps: FakeVps, make_poller: Callable[[], TeamPoller], monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_evidence(monkeypatch, NO_MAIL_LOG)
    failing(vps)
    poller = make_poller()
    poller.refresh()
    vps.sudo_works = False
    found = poller.diagnose()
    assert found is not None
    assert found.findings == ()
    assert found.problem == "no diagnosis: sudo rejected the password of learner."
    assert PASSWORD not in found.problem


def test_no_sudo_after_rejected_refresh(
    vps: FakeVps, make_poller: Callable[[], TeamPoller], monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_evidence(monkeypatch, NO_MAIL_LOG)
    vps.sudo_works = False
    vps.write_progress(progress_at("basics", "check-as-root", {"check-as-root": "failed"}))
    poller = make_poller()
    poller.refresh()
    assert "sudo rejected" in (poller.snapshot.problem or "")
    tried = vps.root_execs
    found = poller.diagnose()
    assert found is not None
    assert found.problem == "no diagnosis: sudo rejected the password of learner."
    assert found.round_trips == 0
    assert vps.root_execs == tried


def test_link_lost_during_diagnosis(
    vps: FakeVps, make_poller: Callable[[], TeamPoller], monkeypatch: pytest.MonkeyPatch
) -> None:
    def drop_link() -> None:
        vps.link_up = False

    serve_evidence(monkeypatch, NO_MAIL_LOG, before=drop_link)
    failing(vps)
    poller = make_poller()
    poller.refresh()
    found = poller.diagnose()
    assert found is not None
    assert found.problem == "no diagnosis: The connection to learner@203.0.113.21 was lost."
    assert poller.refresh().reach == "unreachable"


def test_no_diagnosis_while_unreachable(
    vps: FakeVps, make_poller: Callable[[], TeamPoller], monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_evidence(monkeypatch, NO_MAIL_LOG)
    failing(vps)
    poller = make_poller()
    poller.refresh()
    vps.link_up = False
    assert poller.refresh().reach == "unreachable"
    execs = len(vps.execs)
    assert poller.diagnose() is None
    assert len(vps.execs) == execs


def test_closed_poller_does_not_diagnose(
    vps: FakeVps, make_poller: Callable[[], TeamPoller], monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_evidence(monkeypatch, NO_MAIL_LOG)
    failing(vps)
    poller = make_poller()
    poller.refresh()
    poller.close()
    assert poller.diagnose() is None
