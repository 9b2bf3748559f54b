"""Run the machine's tools and turn every failure into a LabError."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Mapping, Sequence

from workshop_tui.core.errors import LabError

STDERR_TAIL_LINES = 12

PACKAGE_OF_COMMAND = {
    "debootstrap": "debootstrap",
    "systemd-nspawn": "systemd-container",
    "dnsmasq": "dnsmasq-base",
    "ip": "iproute2",
    "unshare": "util-linux",
    "nsenter": "util-linux",
    "mount": "mount",
    "umount": "mount",
    "chroot": "coreutils",
    "ssh-keygen": "openssh-client",
}
"""Debian package that provides each command the lab runs."""


def tail(text: str, lines: int = STDERR_TAIL_LINES) -> str:
    """Return the last non-empty ``lines`` lines of ``text``."""
    non_empty = [line for line in text.splitlines() if line.strip()]
    return "\n".join(non_empty[-lines:])


def run(
    argv: Sequence[str],
    *,
    input_text: str | None = None,
    timeout: float = 120,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a command and return its result, capturing stdout and stderr as text.

    Raises LabError naming the command and the last lines of its stderr when it
    exits non-zero (unless ``check`` is false), is not installed, or runs longer
    than ``timeout`` seconds.
    """
    command = shlex.join(argv)
    try:
        result = subprocess.run(
            list(argv),
            input=input_text,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=dict(env) if env is not None else None,
            stdin=None if input_text is not None else subprocess.DEVNULL,
            check=False,
        )
    except FileNotFoundError as error:
        package = PACKAGE_OF_COMMAND.get(argv[0], argv[0])
        raise LabError(
            f"command not found: {argv[0]} (install it with: apt-get install {package})"
        ) from error
    except OSError as error:
        raise LabError(f"cannot run {argv[0]}: {error.strerror}") from error
    except subprocess.TimeoutExpired as error:
        raise LabError(f"command timed out after {timeout:.0f} s: {command}") from error
    if check and result.returncode != 0:
        details = tail(result.stderr) or tail(result.stdout) or "(no output)"
        raise LabError(f"command failed with exit status {result.returncode}: {command}\n{details}")
    return result
