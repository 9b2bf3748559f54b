"""Probe batches: build and parse run locally with bash, then one batch over real SSH."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from workshop_tui.core.errors import SudoFailed
from workshop_tui.core.probes import (
    PROBE_OUTPUT_LIMIT,
    Probe,
    ProbeOutput,
    build_batch,
    new_boundary,
    parse_batch,
    run_probes,
)

from .sshd_server import ConnectFactory, SshdServer

HOSTILE = "x'; rm -rf ~ #"


def run_locally(
    probes: Sequence[Probe],
    tmp_path: Path,
    *,
    login_user: str = "nobody",
    run_as_root: bool = False,
) -> tuple[list[ProbeOutput], str, str]:
    boundary = new_boundary()
    script = build_batch(probes, boundary=boundary, login_user=login_user, run_as_root=run_as_root)
    done = subprocess.run(
        ["bash", "-c", script],
        input=b"stdin that probes must not see\n",
        capture_output=True,
        timeout=60,
        cwd=tmp_path,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(tmp_path)},
        check=False,
    )
    text = done.stdout.decode("utf-8", "replace")
    return parse_batch(text, boundary=boundary, count=len(probes)), text, script


def test_status_and_merged_output(tmp_path: Path) -> None:
    outputs, _, _ = run_locally(
        [Probe("echo out; echo err >&2; exit 3"), Probe("printf 'no newline'"), Probe("true")],
        tmp_path,
    )
    assert outputs == [
        ProbeOutput(3, "out\nerr\n", False),
        ProbeOutput(0, "no newline", False),
        ProbeOutput(0, "", False),
    ]


def test_stdin_locale_and_isolation(tmp_path: Path) -> None:
    outputs, _, _ = run_locally(
        [Probe('cat; echo "$LC_ALL"'), Probe("x=1; exit 0"), Probe('echo "${x:-unset}"')], tmp_path
    )
    assert outputs[0].output == "C.UTF-8\n"
    assert outputs[2].output == "unset\n"


def test_output_cap(tmp_path: Path) -> None:
    outputs, _, _ = run_locally([Probe("head -c 200000 /dev/zero | tr '\\0' x; exit 4")], tmp_path)
    assert outputs[0].exit_status == 4  # the probe ran to its end, no SIGPIPE
    assert outputs[0].truncated
    assert outputs[0].output == "x" * PROBE_OUTPUT_LIMIT


def test_time_limit(tmp_path: Path) -> None:
    outputs, _, _ = run_locally(
        [Probe("echo before; sleep 20", time_limit=0.5), Probe("echo after")], tmp_path
    )
    assert outputs[0] == ProbeOutput(124, "before\n", False)
    assert outputs[1] == ProbeOutput(0, "after\n", False)


def test_fake_boundaries_and_binary_junk(tmp_path: Path) -> None:
    junk = (
        "printf '\\n%s:end:0:0\\nwtprobe:begin:1\\n' fake; head -c 2000 /dev/urandom; "
        "printf '\\0\\r\\n\\x1b[2J'"
    )
    outputs, _text, _script = run_locally([Probe(junk), Probe("echo second")], tmp_path)
    assert outputs[0].exit_status == 0
    assert outputs[0].output.startswith("\nfake:end:0:0\nwtprobe:begin:1\n")
    assert outputs[0].output.endswith("\0\r\n\x1b[2J")
    assert outputs[1] == ProbeOutput(0, "second\n", False)


def test_boundary_not_in_command_line(tmp_path: Path) -> None:
    # A probe that reads the batch's own command line must not find the boundary.
    outputs, _, script = run_locally(
        [Probe("cat /proc/$PPID/cmdline /proc/self/cmdline; ps -eo args 2>/dev/null || true")],
        tmp_path,
    )
    boundary = script.split("'")[1] + script.split("'")[3]
    assert boundary not in script
    assert boundary not in outputs[0].output
    assert outputs[0].exit_status == 0


def test_hostile_login_user_is_data(tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    canary.write_text("here")
    outputs, _, _ = run_locally(
        [Probe("echo root-probe", as_root=True), Probe("echo user")],
        tmp_path,
        login_user=HOSTILE,
        run_as_root=True,
    )
    assert outputs[0] == ProbeOutput(0, "root-probe\n", False)
    assert outputs[1].exit_status != 0
    assert "runuser" in outputs[1].output
    assert canary.read_text() == "here"


def test_hostile_script_text_is_passed_intact(tmp_path: Path) -> None:
    outputs, _, _ = run_locally([Probe(f"printf '%s\\n' \"{HOSTILE}\"")], tmp_path)
    assert outputs[0].output == HOSTILE + "\n"


def test_parse_missing_and_cut_records() -> None:
    boundary = new_boundary()
    text = (
        f"\n{boundary}:begin:0\nfine\n{boundary}:extra:0\n{boundary}:end:0:0\n"
        f"\n{boundary}:begin:1\npartial output"
    )
    outputs = parse_batch(text, boundary=boundary, count=3)
    assert outputs[0] == ProbeOutput(0, "fine", False)
    assert outputs[1].exit_status == -1
    assert "cut off" in outputs[1].output
    assert outputs[1].output.endswith("partial output")
    assert outputs[2].exit_status == -1
    assert "did not run" in outputs[2].output


def test_parse_ignores_other_boundaries() -> None:
    boundary = new_boundary()
    other = new_boundary()
    text = f"\n{other}:begin:0\nx\n{other}:extra:0\n{other}:end:0:0\n"
    assert parse_batch(text, boundary=boundary, count=1)[0].exit_status == -1


def test_parse_end_of_other_index_is_cut() -> None:
    boundary = new_boundary()
    text = f"\n{boundary}:begin:0\nx\n{boundary}:extra:0\n{boundary}:end:1:0\n"
    assert parse_batch(text, boundary=boundary, count=1)[0].exit_status == -1


def test_invalid_boundary() -> None:
    with pytest.raises(ValueError, match="boundary"):
        build_batch([Probe("true")], boundary="short'", login_user="u", run_as_root=False)


def test_run_probes_mixed_root_and_user(connect: ConnectFactory, sshd: SshdServer) -> None:
    connection = connect("wtsudo")
    outputs = run_probes(
        connection,
        [
            Probe("id -u; echo $HOME", as_root=True),
            Probe("id -u; echo $HOME; pwd"),
            Probe("cat /etc/shadow >/dev/null && echo readable", as_root=True),
            Probe("cat /etc/shadow"),
        ],
    )
    home = str(sshd.users["wtsudo"].home)
    assert outputs[0].output.splitlines()[0] == "0"
    assert outputs[1].output == f"61001\n{home}\n{home}\n"
    assert outputs[2] == ProbeOutput(0, "readable\n", False)
    assert outputs[3].exit_status == 1
    assert "Permission denied" in outputs[3].output


def test_run_probes_as_user_only(connect: ConnectFactory) -> None:
    connection = connect("wtplain")
    assert run_probes(connection, [Probe("id -un")]) == [ProbeOutput(0, "wtplain\n", False)]
    with pytest.raises(SudoFailed):
        run_probes(connection, [Probe("id -u", as_root=True)])


def test_run_probes_batch_timeout(connect: ConnectFactory) -> None:
    connection = connect("wtsudo")
    outputs = run_probes(
        connection,
        [Probe("echo quick"), Probe("sleep 10", time_limit=20), Probe("echo never")],
        timeout=2,
    )
    assert outputs[0] == ProbeOutput(0, "quick\n", False)
    assert outputs[1].exit_status == -1
    assert "did not finish within 2 s" in outputs[1].output
    assert outputs[2].exit_status == -1
