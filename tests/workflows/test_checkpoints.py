"""The checkpoint helpers: keys from parameters, all-or-nothing commits, verified reads."""

from __future__ import annotations

import json

import pytest

from hastack_workflows import (
    CheckpointConflictError,
    CorruptCheckpointError,
    MemoryStore,
    committed_stages,
    load_checkpoint,
    run_key,
    run_stage,
    save_checkpoint,
)


def test_run_key_depends_on_parameters_not_their_order() -> None:
    a = run_key("ai-pipeline", {"dataset": "reviews", "model": "m1"})
    b = run_key("ai-pipeline", {"model": "m1", "dataset": "reviews"})
    c = run_key("ai-pipeline", {"dataset": "reviews", "model": "m2"})
    assert a == b
    assert a.digest != c.digest
    assert a.prefix.startswith("ai-pipeline/") and len(a.digest) == 16


@pytest.mark.parametrize("params", [{"x": float("nan")}, {"x": object()}])
def test_run_key_refuses_parameters_that_are_not_plain_json(params: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="plain JSON"):
        run_key("ai-pipeline", params)


@pytest.mark.parametrize("name", ["", "Ingest", "in/gest", "../x", "-a", "a" * 64])
def test_names_that_are_not_one_safe_path_segment_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not a valid name"):
        run_key(name, {})
    with pytest.raises(ValueError, match="not a valid name"):
        save_checkpoint(MemoryStore(), run_key("p", {}), name, b"x")


def test_save_then_load_round_trips_and_verifies() -> None:
    store, run = MemoryStore(), run_key("p", {"n": 1})
    saved = save_checkpoint(store, run, "ingest", b"rows")
    loaded = load_checkpoint(store, run, "ingest")
    assert loaded == saved
    assert loaded is not None and loaded.data == b"rows"
    assert loaded.data_key == f"p/{run.digest}/ingest/{loaded.sha256}.bin"


def test_saving_identical_bytes_again_writes_nothing() -> None:
    store, run = MemoryStore(), run_key("p", {})
    save_checkpoint(store, run, "ingest", b"rows")
    before = dict(store.objects)
    save_checkpoint(store, run, "ingest", b"rows")
    assert store.objects == before


def test_a_committed_stage_is_never_overwritten_with_different_bytes() -> None:
    store, run = MemoryStore(), run_key("p", {})
    save_checkpoint(store, run, "ingest", b"first")
    before = dict(store.objects)
    with pytest.raises(CheckpointConflictError, match="Nothing was overwritten"):
        save_checkpoint(store, run, "ingest", b"second")
    assert store.objects == before


def test_a_stage_killed_before_its_manifest_counts_as_not_done() -> None:
    store, run = MemoryStore(), run_key("p", {})
    # The data object of an attempt that died before committing.
    store.put(run.data_key("ingest", "0" * 64), b"partial")
    assert load_checkpoint(store, run, "ingest") is None
    checkpoint, computed = run_stage(store, run, "ingest", lambda: b"rows")
    assert computed and checkpoint.data == b"rows"


def test_run_stage_computes_once() -> None:
    store, run = MemoryStore(), run_key("p", {})
    calls: list[int] = []

    def compute() -> bytes:
        calls.append(1)
        return b"rows"

    assert run_stage(store, run, "ingest", compute)[1] is True
    assert run_stage(store, run, "ingest", compute)[1] is False
    assert len(calls) == 1


def test_corrupt_data_is_refused_with_a_clear_error() -> None:
    store, run = MemoryStore(), run_key("p", {})
    saved = save_checkpoint(store, run, "ingest", b"rows")
    store.put(saved.data_key, b"rowz")
    with pytest.raises(CorruptCheckpointError, match=r"ingest/.*\.bin is corrupt.*refusing"):
        load_checkpoint(store, run, "ingest")
    with pytest.raises(CorruptCheckpointError):
        run_stage(store, run, "ingest", lambda: b"rows")


def test_missing_data_and_broken_manifests_are_refused() -> None:
    store, run = MemoryStore(), run_key("p", {})
    saved = save_checkpoint(store, run, "ingest", b"rows")
    del store.objects[saved.data_key]
    with pytest.raises(CorruptCheckpointError, match="missing"):
        load_checkpoint(store, run, "ingest")
    store.put(run.manifest_key("ingest"), b"{not json")
    with pytest.raises(CorruptCheckpointError, match="unreadable"):
        load_checkpoint(store, run, "ingest")
    # A manifest pointing outside its own stage (e.g. copied from another run).
    other = run_key("p", {"other": True})
    manifest = {"sha256": saved.sha256, "size": 4, "dataKey": other.data_key("ingest",
                                                                             saved.sha256)}
    store.put(run.manifest_key("ingest"), json.dumps(manifest).encode())
    with pytest.raises(CorruptCheckpointError, match="does not describe"):
        load_checkpoint(store, run, "ingest")


def test_committed_stages_stops_at_the_first_gap() -> None:
    store, run = MemoryStore(), run_key("p", {})
    save_checkpoint(store, run, "ingest", b"a")
    save_checkpoint(store, run, "publish", b"c")  # no infer: publish is not trusted
    assert committed_stages(store, run, ["ingest", "infer", "publish"]) == ["ingest"]
