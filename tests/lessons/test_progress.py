"""Saved progress: atomic writes, several logins, unreadable files kept aside."""

from __future__ import annotations

import json
from pathlib import Path

from workshop_tui.core.progress import ProgressStore, RunRecord, ServerProgress


def test_round_trip(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path / "progress.json")
    progress = ServerProgress(current_lesson="postfix")
    lesson = progress.lesson("postfix")
    lesson.current_step = "install-postfix"
    lesson.steps["what-smtp-is"] = "passed"
    lesson.run["install-postfix"] = RunRecord("r1", "/home/a/.workshop-tui/runs/r1", 0, 10, 2)
    store.save("learner@10.0.0.1:22", progress)

    loaded = ProgressStore(tmp_path / "progress.json").load("learner@10.0.0.1:22")
    assert loaded == progress


def test_logins_kept_apart(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path / "progress.json")
    store.save("a@h:22", ServerProgress(current_lesson="one"))
    store.save("b@h:22", ServerProgress(current_lesson="two"))
    assert store.load("a@h:22").current_lesson == "one"
    assert store.load("b@h:22").current_lesson == "two"
    assert store.load("c@h:22") == ServerProgress()


def test_unreadable_file_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "progress.json"
    path.write_text("{ not json", encoding="utf-8")
    store = ProgressStore(path)
    assert store.load("a@h:22") == ServerProgress()
    kept = list(tmp_path.glob("progress.json.unreadable-*"))
    assert len(kept) == 1
    assert kept[0].read_text(encoding="utf-8") == "{ not json"
    assert store.warning is not None and str(kept[0]) in store.warning


def test_no_temporary_files_left(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path / "progress.json")
    for number in range(5):
        store.save("a@h:22", ServerProgress(current_lesson=str(number)))
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == ["progress.json", "progress.json.lock"]
    assert json.loads((tmp_path / "progress.json").read_text())["version"] == 1


def test_unknown_step_states_dropped(tmp_path: Path) -> None:
    path = tmp_path / "progress.json"
    data = {"servers": {"a@h:22": {"lessons": {"x": {"steps": {"s": "exploded", "t": "passed"}}}}}}
    path.write_text(json.dumps(data), encoding="utf-8")
    loaded = ProgressStore(path).load("a@h:22")
    assert loaded.lessons["x"].steps == {"t": "passed"}
