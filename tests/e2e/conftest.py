"""Practice lab hosts for the end-to-end tests, created per module and always removed."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.lab.support import lab_skip_reason
from workshop_tui.core.hostkeys import KnownHosts
from workshop_tui.core.lessons import Catalog, load_catalog
from workshop_tui.core.login import Login
from workshop_tui.core.progress import ProgressStore
from workshop_tui.core.session import Session
from workshop_tui.lab import Lab, LabHost

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def practice_lab() -> Iterator[tuple[Lab, list[LabHost]]]:
    """A lab of two fresh hosts, alpha and bravo, for one test module."""
    reason = lab_skip_reason()
    if reason is not None:
        pytest.skip(reason)
    lab = Lab(f"e2e-{secrets.token_hex(3)}")
    try:
        yield lab, lab.up(2)
    finally:
        lab.down()


@pytest.fixture(scope="module")
def lab_hosts(practice_lab: tuple[Lab, list[LabHost]]) -> list[LabHost]:
    return practice_lab[1]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog([REPOSITORY / "lessons"])


def login_for(host: LabHost, *, as_root: bool) -> Login:
    if as_root:
        return Login(host=host.address, user="root", port=host.port, password=host.root_password)
    return Login(host=host.address, user=host.user, port=host.port, password=host.user_password)


@pytest.fixture
def make_session(tmp_path: Path) -> Callable[[Login], Session]:
    """Build sessions with their own known_hosts and progress files."""

    def make(login: Login) -> Session:
        return Session(
            login,
            known_hosts=KnownHosts(tmp_path / "known_hosts"),
            progress_store=ProgressStore(tmp_path / "progress.json"),
        )

    return make
