"""Read-only shell probes, batched so that all of a step's probes take one SSH exec.

Each probe runs in its own subshell with stdin from /dev/null, stdout and stderr merged,
``LC_ALL=C.UTF-8`` and a time limit enforced by coreutils ``timeout``. Its record in the
batch output looks like this, where ``B`` is a boundary drawn afresh for every batch::

    \\nB:begin:INDEX\\n
    OUTPUT (at most PROBE_OUTPUT_LIMIT bytes)
    \\nB:extra:BYTES_DROPPED\\n
    B:end:INDEX:EXIT_STATUS\\n

The boundary never appears in one piece in the batch script, so a probe that lists
processes, and with them the batch's command line, cannot print it.
"""

from __future__ import annotations

import logging
import re
import secrets
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from workshop_tui.core.errors import RemoteTimeout
from workshop_tui.core.remote import Connection

logger = logging.getLogger(__name__)

# Maximum output kept per probe; the rest is read and counted so the probe can finish.
PROBE_OUTPUT_LIMIT = 64 * 1024
DEFAULT_PROBE_TIME_LIMIT = 10.0
# Seconds between coreutils timeout's TERM and its KILL.
_KILL_AFTER_SECONDS = 2
_BOUNDARY_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,128}")
NO_RECORD_STATUS = -1


@dataclass(frozen=True)
class Probe:
    """A read-only shell script whose output and exit status a check judges.

    Attributes:
        script: bash script; it runs in the login user's home directory.
        as_root: Run as root (through sudo unless the login user is root).
        time_limit: Seconds before the script is stopped; it then exits with status 124.
    """

    script: str
    as_root: bool = False
    time_limit: float = DEFAULT_PROBE_TIME_LIMIT


@dataclass(frozen=True)
class ProbeOutput:
    """Exit status and merged output of one probe.

    ``exit_status`` is 124 when the time limit stopped the probe, and -1 when the batch
    ended before the probe's record was complete. In that case ``output`` explains why.
    ``truncated`` is True when output beyond ``PROBE_OUTPUT_LIMIT`` was dropped.
    """

    exit_status: int
    output: str
    truncated: bool


def new_boundary() -> str:
    """Return a random boundary that no probe output can predict."""
    return "wtprobe" + secrets.token_hex(16)


def build_batch(
    probes: Sequence[Probe], *, boundary: str, login_user: str, run_as_root: bool
) -> str:
    """Return one bash script that runs every probe and frames each result.

    Args:
        probes: Probes in the order of their records.
        boundary: 16 to 128 characters from ``[A-Za-z0-9_-]``; use ``new_boundary``.
        login_user: The SSH login user, whom non-root probes run as under sudo.
        run_as_root: Whether the batch itself runs as root. Then probes without
            ``as_root`` drop to ``login_user`` with ``/usr/sbin/runuser``.

    Raises:
        ValueError: the boundary does not have the required form.
    """
    if not _BOUNDARY_PATTERN.fullmatch(boundary):
        raise ValueError("the boundary must be 16 to 128 characters from [A-Za-z0-9_-]")
    middle = len(boundary) // 2
    lines = [
        # Two adjacent quoted halves: the shell joins them, `ps` shows them apart. The
        # boundary's characters need no escaping inside single quotes.
        f"B='{boundary[:middle]}''{boundary[middle:]}'",
        f"U={shlex.quote(login_user)}",
        'H=$(getent passwd -- "$U" | cut -d: -f6)',
        "export LC_ALL=C.UTF-8",
        _PROBE_FUNCTION,
    ]
    for index, probe in enumerate(probes):
        as_user = run_as_root and not probe.as_root
        limit = f"{max(probe.time_limit, 0.1):g}"
        lines.append(
            f"probe {index} {limit} {'user' if as_user else 'self'} {shlex.quote(probe.script)}"
        )
    return "\n".join(lines) + "\n"


# `head -c` reads no more than it keeps, so `wc -c` counts exactly the dropped bytes
# while letting the probe write to the end instead of dying of SIGPIPE.
_PROBE_FUNCTION = rf"""probe() {{
  printf '\n%s:begin:%s\n' "$B" "$1"
  if [ "$3" = user ]; then
    /usr/sbin/runuser -u "$U" -- env HOME="$H" \
      timeout -k {_KILL_AFTER_SECONDS} "$2" bash -c "$4" </dev/null 2>&1 |
      {{ head -c {PROBE_OUTPUT_LIMIT}; printf '\n%s:extra:%s\n' "$B" "$(wc -c)"; }}
    st=${{PIPESTATUS[0]}}
  else
    timeout -k {_KILL_AFTER_SECONDS} "$2" bash -c "$4" </dev/null 2>&1 |
      {{ head -c {PROBE_OUTPUT_LIMIT}; printf '\n%s:extra:%s\n' "$B" "$(wc -c)"; }}
    st=${{PIPESTATUS[0]}}
  fi
  printf '%s:end:%s:%s\n' "$B" "$1" "$st"
}}"""


def parse_batch(text: str, *, boundary: str, count: int) -> list[ProbeOutput]:
    """Split the batch output into one ProbeOutput per probe.

    A probe without a complete record gets exit status -1 and an output that states
    whether it never started or was cut off, followed by any output it printed.
    """
    quoted = re.escape(boundary)
    begin = re.compile(rf"(?:^|\n){quoted}:begin:(\d+)\n")
    tail = re.compile(rf"\n{quoted}:extra:(\d+)\n(?:{quoted}:end:(\d+):(-?\d+)\n?)?\Z")
    bodies: dict[int, str] = {}
    matches = list(begin.finditer(text))
    for number, match in enumerate(matches):
        end = matches[number + 1].start() if number + 1 < len(matches) else len(text)
        index = int(match.group(1))
        if index < count and index not in bodies:
            bodies[index] = text[match.end() : end]
    results = []
    for index in range(count):
        body = bodies.get(index)
        if body is None:
            results.append(
                ProbeOutput(
                    NO_RECORD_STATUS,
                    "The probe did not run: the batch ended before it started.",
                    False,
                )
            )
            continue
        framed = tail.search(body)
        if framed is None or framed.group(2) is None or int(framed.group(2)) != index:
            partial = body[: framed.start()] if framed else body
            results.append(
                ProbeOutput(
                    NO_RECORD_STATUS,
                    "The probe's output was cut off before it finished; output so far:\n" + partial,
                    framed is not None and int(framed.group(1)) > 0,
                )
            )
            continue
        results.append(
            ProbeOutput(int(framed.group(3)), body[: framed.start()], int(framed.group(1)) > 0)
        )
    return results


def run_probes(
    conn: Connection, probes: Sequence[Probe], *, timeout: float = 30.0
) -> list[ProbeOutput]:
    """Run all probes in one exec and return their outputs in order.

    The batch runs under sudo if any probe needs root and the login user is not root.
    If ``timeout`` expires, probes that finished keep their results and the others get
    exit status -1.

    Raises:
        ConnectionLost: the link broke; no result can be trusted.
        SudoFailed: a probe needs root and sudo refused.
    """
    if not probes:
        return []
    boundary = new_boundary()
    run_as_root = any(probe.as_root for probe in probes) and not conn.is_root
    script = build_batch(
        probes, boundary=boundary, login_user=conn.login.user, run_as_root=run_as_root
    )
    received: list[bytes] = []
    timed_out = False
    try:
        result = conn.exec(
            shlex.join(["bash", "-c", script]),
            as_root=run_as_root,
            timeout=timeout,
            on_stdout=received.append,
            collect_limit=0,
        )
        if result.stderr:
            logger.warning(
                "probe batch on %s wrote to stderr: %s",
                conn.login.target,
                result.stderr[-500:].decode("utf-8", "replace"),
            )
    except RemoteTimeout:
        timed_out = True
        logger.warning("probe batch on %s timed out after %g s", conn.login.target, timeout)
    text = b"".join(received).decode("utf-8", "replace")
    outputs = parse_batch(text, boundary=boundary, count=len(probes))
    if timed_out:
        note = f"The probes did not finish within {timeout:g} s. "
        outputs = [
            ProbeOutput(out.exit_status, note + out.output, out.truncated)
            if out.exit_status == NO_RECORD_STATUS
            else out
            for out in outputs
        ]
    return outputs
