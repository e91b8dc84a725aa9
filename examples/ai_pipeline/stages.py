"""The pipeline's stages as pure functions of bytes, shared by the Prefect flow and Argo steps.

Each stage reads the previous stage's checkpoint and returns the bytes of its own, so
either engine only has to call `hastack_workflows.run_stage` around it. The "model" is
a tiny lexicon scorer so the example runs anywhere (no weights to download); swap
`MODELS` entries for a real model client.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from hastack_workflows import ObjectStore, RunKey, load_checkpoint, run_key

PIPELINE = "ai-pipeline"
STAGES: tuple[str, ...] = ("ingest", "infer", "publish")

_WORDS = ("great", "slow", "fine", "broken", "fast", "love", "hate", "ok")
_LEXICON = {"great": 1.0, "love": 1.0, "fast": 0.5, "fine": 0.2, "ok": 0.0,
            "slow": -0.5, "broken": -1.0, "hate": -1.0}

Model = Callable[[str], float]


def lexicon_model(text: str) -> float:
    words = [word.strip(".,:") for word in text.split()]
    scores = [_LEXICON[word] for word in words if word in _LEXICON]
    return round(sum(scores) / len(scores), 6) if scores else 0.0


# Models by name (the `model` run parameter). Tests register faulty ones here.
MODELS: dict[str, Model] = {"lexicon-v1": lexicon_model}


def parameters(dataset: str, documents: int, model: str) -> dict[str, Any]:
    """The run parameters: they, and only they, decide the run key."""
    if documents < 1:
        raise ValueError(f"documents must be >= 1, got {documents}")
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; known: {sorted(MODELS)}")
    return {"dataset": dataset, "documents": documents, "model": model}


def key_for(params: Mapping[str, Any]) -> RunKey:
    return run_key(PIPELINE, params)


def ingest(params: Mapping[str, Any]) -> bytes:
    """Deterministic documents for the dataset (a real pipeline reads a source here)."""
    docs = []
    for index in range(int(params["documents"])):
        seed = hashlib.sha256(f"{params['dataset']}/{index}".encode()).digest()
        words = [_WORDS[byte % len(_WORDS)] for byte in seed[:5]]
        docs.append({"id": index, "text": " ".join(words)})
    return json.dumps(docs, sort_keys=True).encode()


def infer(params: Mapping[str, Any], ingested: bytes) -> bytes:
    model = MODELS[str(params["model"])]
    docs = json.loads(ingested)
    scored = [{"id": doc["id"], "score": model(doc["text"])} for doc in docs]
    return json.dumps(scored, sort_keys=True).encode()


def publish(params: Mapping[str, Any], inferred: bytes) -> bytes:
    scores = [row["score"] for row in json.loads(inferred)]
    report = {"dataset": params["dataset"], "model": params["model"],
              "documents": len(scores),
              "meanScore": round(sum(scores) / len(scores), 6),
              "positive": sum(1 for score in scores if score > 0)}
    return json.dumps(report, sort_keys=True).encode()


def stage_input(store: ObjectStore, run: RunKey, stage: str) -> bytes | None:
    """The verified checkpoint of the stage before `stage` (None for the first stage)."""
    index = STAGES.index(stage)
    if index == 0:
        return None
    previous = load_checkpoint(store, run, STAGES[index - 1])
    if previous is None:
        raise RuntimeError(f"stage {stage!r} needs {STAGES[index - 1]!r} of run {run.prefix}, "
                           "which is not committed")
    return previous.data


def compute(stage: str, params: Mapping[str, Any], previous: bytes | None) -> bytes:
    if stage == "ingest":
        return ingest(params)
    if previous is None:
        raise RuntimeError(f"stage {stage!r} needs the previous stage's output")
    if stage == "infer":
        return infer(params, previous)
    if stage == "publish":
        return publish(params, previous)
    raise ValueError(f"unknown stage {stage!r}; stages: {STAGES}")
