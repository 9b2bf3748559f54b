"""The progress file's JSON: encoding, strict decoding, and the shell scripts that move it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from workshop_tui import __version__
from workshop_tui.core.progress import ProgressStore, RunRecord, ServerProgress
from workshop_tui.core.progress_sync import facts_and_progress_command, split_facts_output
from workshop_tui.core.shared_progress import (
    MAX_SHARED_PROGRESS_BYTES,
    READ_SHARED_PROGRESS_SCRIPT,
    SHARED_FORMAT_VERSION,
    SHARED_PROGRESS_FILE,
    WRITE_SHARED_PROGRESS_SCRIPT,
    decode_shared_progress,
    encode_shared_progress,
)


def sample_progress() -> ServerProgress:
    progress = ServerProgress(
        current_lesson="postfix",
        step_since=1764899000.0,
        hand_raised_at=1764899500.5,
        updated_at=1764899600.25,
    )
    lesson = progress.lesson("postfix")
    lesson.current_step = "install-postfix"
    lesson.steps["what-smtp-is"] = "passed"
    lesson.steps["install-postfix"] = "failed"
    lesson.run["install-postfix"] = RunRecord(
        "r1", "/home/learner/.workshop-tui/runs/r1", 1, 120, 7, exit_status=100, stopped=False
    )
    return progress


def sample_document() -> dict[str, Any]:
    data = encode_shared_progress(sample_progress(), team="team-1", written_at=1764900000.25)
    document: dict[str, Any] = json.loads(data)
    return document


def test_round_trip_keeps_everything() -> None:
    data = encode_shared_progress(sample_progress(), team="team-1", written_at=1764900000.25)
    shared = decode_shared_progress(data.decode())
    assert shared is not None
    assert shared.progress == sample_progress()
    assert shared.team == "team-1"
    assert shared.written_at == 1764900000.25
    assert shared.app_version == __version__


def test_encoded_fields_match_docs() -> None:
    document = sample_document()
    assert document["format"] == SHARED_FORMAT_VERSION
    assert document["current_lesson"] == "postfix"
    assert document["lessons"]["postfix"]["run"]["install-postfix"]["exit_status"] == 100
    assert "host_key" not in document


def test_no_host_key_in_file() -> None:
    progress = sample_progress()
    progress.host_key = "SHA256:abc"
    data = encode_shared_progress(progress, team=None, written_at=1.0)
    assert b"SHA256:abc" not in data


@pytest.mark.parametrize("text", ["", "  \n"])
def test_empty_text_is_none(text: str) -> None:
    assert decode_shared_progress(text) is None


def test_unknown_keys_ignored() -> None:
    document = sample_document()
    document["board_colour"] = "red"
    document["lessons"]["postfix"]["notes"] = ["later"]
    document["lessons"]["postfix"]["run"]["install-postfix"]["host"] = "alpha"
    shared = decode_shared_progress(json.dumps(document))
    assert shared is not None
    assert shared.progress == sample_progress()


def test_missing_optional_fields() -> None:
    shared = decode_shared_progress('{"format": 1, "written_at": 5}')
    assert shared is not None
    assert shared.progress == ServerProgress()
    assert shared.team is None
    assert shared.app_version == ""


def test_newer_format_asks_for_update() -> None:
    document = sample_document()
    document["format"] = SHARED_FORMAT_VERSION + 1
    with pytest.raises(ValueError, match="update workshop-tui"):
        decode_shared_progress(json.dumps(document))


def test_invalid_json_rejected() -> None:
    with pytest.raises(ValueError, match="not valid JSON"):
        decode_shared_progress('{"format": 1,')


def _set(document: dict[str, Any], path: str, value: object) -> None:
    *parents, last = path.split("/")
    for key in parents:
        document = document[key]
    document[last] = value


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("format", "1", "'format' must be an integer, not the string '1'"),
        ("format", 0, "'format' must be 1 or more"),
        ("written_at", None, "'written_at' is missing"),
        ("written_at", "yesterday", "'written_at' must be a number of seconds"),
        ("hand_raised_at", True, "'hand_raised_at' must be a number of seconds, not the boolean"),
        ("team", 7, "'team' must be a string, not the number 7"),
        ("current_lesson", ["postfix"], "'current_lesson' must be a string, not a list"),
        ("lessons", [], "'lessons' must be a JSON object, not a list"),
        ("lessons/postfix", "done", "'lessons.postfix' must be a JSON object"),
        (
            "lessons/postfix/steps/install-postfix",
            "done",
            "'lessons.postfix.steps.install-postfix' must be one of passed, failed, ran",
        ),
        ("lessons/postfix/current_step", 3, "'lessons.postfix.current_step' must be a string"),
        (
            "lessons/postfix/run/install-postfix/block",
            "1",
            "'lessons.postfix.run.install-postfix.block' must be an integer",
        ),
        (
            "lessons/postfix/run/install-postfix/stopped",
            "no",
            "'lessons.postfix.run.install-postfix.stopped' must be true or false",
        ),
        (
            "lessons/postfix/run/install-postfix/run_id",
            None,
            "'lessons.postfix.run.install-postfix' needs a 'run_id' and a 'remote_dir'",
        ),
    ],
)
def test_wrong_types_named(path: str, value: object, message: str) -> None:
    document = sample_document()
    _set(document, path, value)
    with pytest.raises(ValueError) as caught:
        decode_shared_progress(json.dumps(document))
    assert message in str(caught.value)


def test_top_level_must_be_object() -> None:
    with pytest.raises(ValueError, match="'the top level' must be a JSON object, not a list"):
        decode_shared_progress("[1, 2]")


# The local store keeps the new fields, and reads files written before they existed.


def test_local_store_keeps_times(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path / "progress.json")
    store.save("a@h", sample_progress())
    assert ProgressStore(tmp_path / "progress.json").load("a@h") == sample_progress()


def test_local_store_reads_old_file(tmp_path: Path) -> None:
    path = tmp_path / "progress.json"
    old = {"version": 1, "servers": {"a@h": {"current_lesson": "postfix", "lessons": {}}}}
    path.write_text(json.dumps(old), encoding="utf-8")
    loaded = ProgressStore(path).load("a@h")
    assert loaded.current_lesson == "postfix"
    assert loaded.step_since is None
    assert loaded.hand_raised_at is None
    assert loaded.updated_at is None


# The scripts run in a local shell, with HOME pointing at a temporary directory.


def run_script(home: Path, script: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["sh", "-c", script],
        input=stdin,
        capture_output=True,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
        check=False,
    )


def test_read_script_without_file(tmp_path: Path) -> None:
    result = run_script(tmp_path, READ_SHARED_PROGRESS_SCRIPT)
    assert result.returncode == 0
    assert result.stdout == b""
    assert result.stderr == b""


def test_write_then_read(tmp_path: Path) -> None:
    data = encode_shared_progress(sample_progress(), team="team-1", written_at=2.0)
    written = run_script(tmp_path, WRITE_SHARED_PROGRESS_SCRIPT, data)
    assert written.returncode == 0, written.stderr
    read = run_script(tmp_path, READ_SHARED_PROGRESS_SCRIPT)
    assert read.stdout == data


def test_write_is_private_and_clean(tmp_path: Path) -> None:
    (tmp_path / ".workshop-tui" / "runs").mkdir(parents=True)
    path = tmp_path / SHARED_PROGRESS_FILE
    path.write_text("old")
    path.chmod(0o644)
    assert run_script(tmp_path, WRITE_SHARED_PROGRESS_SCRIPT, b"{}\n").returncode == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(os.listdir(path.parent)) == ["progress.json", "runs"]


def test_write_creates_private_directory(tmp_path: Path) -> None:
    assert run_script(tmp_path, WRITE_SHARED_PROGRESS_SCRIPT, b"{}\n").returncode == 0
    directory = tmp_path / ".workshop-tui"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_write_fails_without_home(tmp_path: Path) -> None:
    (tmp_path / ".workshop-tui").write_text("a file where the directory belongs")
    result = run_script(tmp_path, WRITE_SHARED_PROGRESS_SCRIPT, b"{}\n")
    assert result.returncode != 0


def test_read_script_stops_at_limit(tmp_path: Path) -> None:
    path = tmp_path / SHARED_PROGRESS_FILE
    path.parent.mkdir()
    path.write_bytes(b" " * (MAX_SHARED_PROGRESS_BYTES + 10))
    result = run_script(tmp_path, READ_SHARED_PROGRESS_SCRIPT)
    assert len(result.stdout) == MAX_SHARED_PROGRESS_BYTES


def test_facts_command_splits(tmp_path: Path) -> None:
    data = encode_shared_progress(sample_progress(), team=None, written_at=3.0)
    assert run_script(tmp_path, WRITE_SHARED_PROGRESS_SCRIPT, data).returncode == 0
    boundary = "wtprobe0123456789abcdef"
    command = facts_and_progress_command("echo alpha; echo alpha.lab.test", boundary)
    output = run_script(tmp_path, command).stdout.decode()
    facts, shared = split_facts_output(output, boundary)
    assert facts == "alpha\nalpha.lab.test\n"
    assert shared == data.decode()


def test_split_without_boundary() -> None:
    assert split_facts_output("alpha\n", "wtprobe0123456789abcdef") == ("alpha\n", None)
