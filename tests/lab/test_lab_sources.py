"""apt sources of the machine turned into lab host sources."""

from __future__ import annotations

from pathlib import Path

from workshop_tui.lab import sources

MACHINE_SOURCES = """\
Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main

Types: deb
URIs: https://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
"""


def test_deb822_machine_sources(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(MACHINE_SOURCES)
    repositories = sources.machine_repositories(tmp_path)
    assert repositories == [
        sources.Repository(
            "http://deb.debian.org/debian", ("bookworm", "bookworm-updates"), ("main",)
        ),
        sources.Repository(
            "http://deb.debian.org/debian-security", ("bookworm-security",), ("main",)
        ),
    ]
    assert repositories[1].host == "deb.debian.org"
    assert repositories[1].path == "debian-security"


def test_one_line_sources(tmp_path: Path) -> None:
    (tmp_path / "sources.list").write_text(
        "# comment\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://ftp.example.test/debian/ bookworm main contrib\n"
        "deb http://ftp.example.test/debian bookworm-updates main\n"
        "deb-src http://ftp.example.test/debian bookworm main\n"
    )
    assert sources.machine_repositories(tmp_path) == [
        sources.Repository(
            "http://ftp.example.test/debian", ("bookworm", "bookworm-updates"), ("main", "contrib")
        )
    ]


def test_defaults_without_bookworm_sources(tmp_path: Path) -> None:
    (tmp_path / "sources.list").write_text("deb http://deb.debian.org/debian trixie main\n")
    repositories = sources.machine_repositories(tmp_path)
    assert [r.uri for r in repositories] == [
        "http://deb.debian.org/debian",
        "http://deb.debian.org/debian-security",
    ]


def test_rendered_sources_parse_back() -> None:
    repositories = sources.parse_deb822(sources.DEFAULT_SOURCES_TEXT)
    text = sources.render_deb822(repositories)
    assert sources.parse_deb822(text) == repositories
    assert "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" in text
