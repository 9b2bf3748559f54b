"""The apt sources of lab hosts, taken from this machine's own sources.

Lab hosts get the same Debian 12 sources as a fresh VPS (the machine's sources
for the bookworm suites), with ``http://`` URIs so the lab's package mirror can
serve them. apt inside a host then talks to the lab mirror through the
lab DNS, which maps each source's host name to the lab bridge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

RELEASE = "bookworm"

DEFAULT_SOURCES_TEXT = """\
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""
"""Sources used when the machine has no bookworm sources of its own."""

KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


@dataclass(frozen=True)
class Repository:
    """One ``deb`` repository: an http URI with its suites and components."""

    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]

    @property
    def host(self) -> str:
        return urlsplit(self.uri).hostname or ""

    @property
    def path(self) -> str:
        """Return the URI path without slashes at either end, for example ``debian``."""
        return urlsplit(self.uri).path.strip("/")


def _http(uri: str) -> str:
    parts = urlsplit(uri)
    return f"http://{parts.netloc}{parts.path.rstrip('/')}"


def parse_deb822(text: str) -> list[Repository]:
    """Parse deb822 ``.sources`` text and return its ``deb`` repositories."""
    repositories: list[Repository] = []
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = ""
        for line in stanza.splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if line[0] in " \t" and key:
                fields[key] += " " + line.strip()
                continue
            key, _, value = line.partition(":")
            key = key.strip().lower()
            fields[key] = value.strip()
        if "deb" not in fields.get("types", "").split():
            continue
        if fields.get("enabled", "yes").lower() == "no":
            continue
        suites = tuple(fields.get("suites", "").split())
        components = tuple(fields.get("components", "").split())
        for uri in fields.get("uris", "").split():
            repositories.append(Repository(_http(uri), suites, components))
    return repositories


def parse_one_line(text: str) -> list[Repository]:
    """Parse one-line-style ``sources.list`` text and return its ``deb`` repositories."""
    repositories: list[Repository] = []
    for raw_line in text.splitlines():
        line = raw_line.split("#", 1)[0].strip()
        line = re.sub(r"\[[^\]]*\]", " ", line)
        words = line.split()
        if len(words) < 3 or words[0] != "deb":
            continue
        repositories.append(Repository(_http(words[1]), (words[2],), tuple(words[3:])))
    return repositories


def merge(repositories: list[Repository]) -> list[Repository]:
    """Keep only bookworm suites and merge entries that share a URI."""
    merged: dict[str, Repository] = {}
    for repository in repositories:
        suites = tuple(s for s in repository.suites if s.split("-")[0] == RELEASE)
        if not suites or not repository.uri.startswith("http://"):
            continue
        known = merged.get(repository.uri)
        if known is None:
            merged[repository.uri] = Repository(repository.uri, suites, repository.components)
            continue
        all_suites = known.suites + tuple(s for s in suites if s not in known.suites)
        components = known.components + tuple(
            c for c in repository.components if c not in known.components
        )
        merged[repository.uri] = Repository(known.uri, all_suites, components)
    return list(merged.values())


def machine_repositories(etc_apt: Path = Path("/etc/apt")) -> list[Repository]:
    """Return this machine's bookworm repositories, or Debian's defaults when it has none."""
    found: list[Repository] = []
    one_line = etc_apt / "sources.list"
    if one_line.is_file():
        found += parse_one_line(one_line.read_text(errors="replace"))
    parts = etc_apt / "sources.list.d"
    if parts.is_dir():
        for path in sorted(parts.iterdir()):
            if path.suffix == ".list":
                found += parse_one_line(path.read_text(errors="replace"))
            elif path.suffix == ".sources":
                found += parse_deb822(path.read_text(errors="replace"))
    repositories = merge(found)
    return repositories or parse_deb822(DEFAULT_SOURCES_TEXT)


def render_deb822(repositories: list[Repository]) -> str:
    """Return the ``debian.sources`` text that lab hosts get."""
    stanzas = [
        f"Types: deb\nURIs: {repository.uri}\nSuites: {' '.join(repository.suites)}\n"
        f"Components: {' '.join(repository.components)}\nSigned-By: {KEYRING}\n"
        for repository in repositories
    ]
    return "\n".join(stanzas)
