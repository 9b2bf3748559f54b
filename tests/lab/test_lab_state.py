"""State file round trip, permissions and atomic replacement."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from workshop_tui.core.errors import LabError
from workshop_tui.lab import state


def _sample() -> state.LabState:
    return state.LabState(
        lab="practice",
        subnet="10.200.7.0/24",
        image_dir="/var/lib/workshop-tui/image/abc",
        dnsmasq_pid=123,
        mirror_pid=None,
        dns_hosts=["alpha", "bravo"],
        hosts={
            "alpha": state.HostState(
                name="alpha",
                address="10.200.7.11",
                user="learner",
                user_password="abcd-efgh-jkmn",
                root_password="pqrs-tuvw-xyz2",
                host_keys=[("ssh-ed25519", "AAAAC3Nza")],
                launcher_pid=456,
            )
        },
    )


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "lab" / "state.json"
    state.save(path, _sample())
    assert state.load(path) == _sample()


def test_file_mode_is_0600(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    old_umask = os.umask(0)
    try:
        state.save(path, _sample())
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_missing_file_loads_as_none(tmp_path: Path) -> None:
    assert state.load(tmp_path / "state.json") is None


@pytest.mark.parametrize(
    "text", ["{", "[]", '{"version": 99, "lab": "x", "subnet": "y"}', '{"version": 1}']
)
def test_invalid_file_raises(tmp_path: Path, text: str) -> None:
    path = tmp_path / "state.json"
    path.write_text(text)
    with pytest.raises(LabError, match=r"state\.json: invalid lab state"):
        state.load(path)


def test_failed_write_keeps_old_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "state.json"
    state.save(path, _sample())
    changed = _sample()
    changed.subnet = "10.200.8.0/24"

    def fail_fsync(descriptor: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", fail_fsync)
    with pytest.raises(OSError, match="disk full"):
        state.save(path, changed)
    monkeypatch.undo()

    loaded = state.load(path)
    assert loaded is not None
    assert loaded.subnet == "10.200.7.0/24"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"], "no temporary file is left"
