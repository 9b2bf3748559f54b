"""The mirror's HTTP request handler, served on loopback."""

from __future__ import annotations

import functools
import http.client
import logging
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from workshop_tui.lab import mirror_server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, int]]:
    root = tmp_path / "mirror"
    (root / "debian/dists/bookworm").mkdir(parents=True)
    (root / "debian/dists/bookworm/InRelease").write_text("signed\n")
    handler = functools.partial(mirror_server.MirrorRequestHandler, directory=str(root))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


def _get(address: tuple[str, int], path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(*address, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_serves_files(server: tuple[str, int], caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=mirror_server.log.name):
        assert _get(server, "/debian/dists/bookworm/InRelease") == (200, b"signed\n")
    assert "GET /debian/dists/bookworm/InRelease" in caplog.text


def test_missing_file_is_404(server: tuple[str, int]) -> None:
    assert _get(server, "/debian/dists/bookworm/main/binary-amd64/Packages.xz")[0] == 404


def test_no_directory_listing(server: tuple[str, int]) -> None:
    assert _get(server, "/debian/dists/")[0] == 404


def test_no_path_traversal(server: tuple[str, int]) -> None:
    assert _get(server, "/../../../etc/passwd")[0] == 404


def test_arguments() -> None:
    arguments = mirror_server.parse_arguments(
        ["--directory", "/m", "--address", "10.200.7.1", "--log-file", "/l"]
    )
    assert arguments.port == 80
    assert arguments.directory == Path("/m")
