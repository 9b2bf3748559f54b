"""HTTP server for the lab's package mirror, run as its own detached process.

Usage: ``python -m workshop_tui.lab.mirror_server --directory DIR --address ADDR
[--port 80] --log-file FILE``. It serves the files below DIR read-only on
ADDR:PORT and logs every request and error to FILE.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import signal
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any

log = logging.getLogger("workshop_tui.lab.mirror_server")


class MirrorRequestHandler(SimpleHTTPRequestHandler):
    """Serves mirror files; logs through ``logging`` instead of writing to stderr."""

    server_version = "workshop-lab-mirror"

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        # apt never needs a listing; a plain 404 keeps the mirror's responses simple.
        self.send_error(404, "Not Found")
        return None


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m workshop_tui.lab.mirror_server")
    parser.add_argument("--directory", type=Path, required=True, help="mirror root to serve")
    parser.add_argument("--address", required=True, help="IPv4 address to listen on")
    parser.add_argument("--port", type=int, default=80, help="TCP port to listen on (default 80)")
    parser.add_argument("--log-file", type=Path, required=True, help="file to append the log to")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        filename=arguments.log_file,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    handler = functools.partial(MirrorRequestHandler, directory=str(arguments.directory))
    try:
        server = ThreadingHTTPServer((arguments.address, arguments.port), handler)
    except OSError as error:
        log.error("cannot listen on %s:%d: %s", arguments.address, arguments.port, error)
        return 1
    server.daemon_threads = True

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    log.info("serving %s on http://%s:%d/", arguments.directory, arguments.address, arguments.port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        log.info("stopped by signal")
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
