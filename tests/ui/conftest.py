"""Fixtures for Pilot tests of the attendee UI: a lesson catalog, a fake session, the app."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from workshop_tui.core.lessons import Catalog
from workshop_tui.core.login import Login
from workshop_tui.ui.app import LINK_CHECK_SECONDS, ShellOpener, WorkshopApp

from .fakes import FakeSession, make_login, write_catalog

AppMaker = Callable[..., WorkshopApp]


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    return write_catalog(tmp_path / "lessons")


@pytest.fixture
def session() -> FakeSession:
    return FakeSession(login=make_login())


@pytest.fixture
def make_app(catalog: Catalog, session: FakeSession, tmp_path: Path) -> AppMaker:
    """Return a function that builds the app around ``session``, as the CLI would."""

    def build(
        login: Login | None = None,
        *,
        use_login: bool = True,
        auto_connect: bool = False,
        shell_opener: ShellOpener | None = None,
        lessons: Catalog | None = None,
        link_check_seconds: float = LINK_CHECK_SECONDS,
    ) -> WorkshopApp:
        def factory(typed: Login) -> FakeSession:
            session.login = typed
            return session

        extra = {"shell_opener": shell_opener} if shell_opener is not None else {}
        return WorkshopApp(
            lessons if lessons is not None else catalog,
            (login or make_login()) if use_login else None,
            factory,
            auto_connect=auto_connect,
            known_hosts=tmp_path / "known_hosts",
            reconnect_delays=(0.01, 0.02),
            link_check_seconds=link_check_seconds,
            **extra,
        )

    return build
