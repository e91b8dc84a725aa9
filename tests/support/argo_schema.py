"""Argo Workflows v4.0.6's JSON schema (tests/data/argo), made strict for validation.

The schema declares no `additionalProperties`, so on its own it accepts misspelt
fields; `strict()` closes every object that lists its properties, as
`kubeconform -strict` does.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

DATA = Path(__file__).resolve().parents[1] / "data" / "argo" / "workflow-v4.0.6.schema.json"
V1 = "io.argoproj.workflow.v1alpha1."


def strict(node: Any) -> Any:
    if isinstance(node, dict):
        closed = {key: strict(value) for key, value in node.items()}
        if "properties" in closed and "additionalProperties" not in closed:
            closed["additionalProperties"] = False
        return closed
    if isinstance(node, list):
        return [strict(item) for item in node]
    return node


@cache
def definitions() -> dict[str, Any]:
    schema = json.loads(DATA.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    return {"$schema": schema["$schema"], "definitions": strict(schema["definitions"])}


def validate(kind: str, document: Any) -> None:
    """Raise jsonschema.ValidationError unless `document` is a valid Argo `kind`."""
    schema = {**definitions(), "$ref": f"#/definitions/{V1}{kind}"}
    jsonschema.Draft202012Validator(schema).validate(document)
