"""A team tunes the pack in policies/overrides/<tier>.json, checked against a schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hastack_policies.catalogue import all_rules
from hastack_policies.overrides import (
    SCHEMA_PATH,
    OverrideError,
    load_overrides,
    render_schema,
)


def write(directory: Path, tier: str, document: object) -> None:
    directory.mkdir(exist_ok=True)
    (directory / f"{tier}.json").write_text(json.dumps(document))


def test_the_committed_schema_matches_the_catalogue() -> None:
    assert SCHEMA_PATH.read_text() == render_schema(all_rules()), "run `make policy-config`"


def test_an_override_is_read_for_its_tier_only(tmp_path: Path) -> None:
    write(tmp_path, "staging", {"$schema": "../overrides.schema.json",
                                "rds-backup-retention": {"minimumDays": 10,
                                                         "enforcementLevel": "advisory"}})
    assert load_overrides("staging", all_rules(), tmp_path) == {
        "rds-backup-retention": {"minimumDays": 10, "enforcementLevel": "advisory"}}
    assert load_overrides("prod", all_rules(), tmp_path) == {}


@pytest.mark.parametrize(("document", "message"), [
    ({"rds-backup-retenton": {}}, "unknown rule 'rds-backup-retenton'; did you mean "
                                  "'rds-backup-retention'?"),
    ({"rds-backup-retention": {"minimumDay": 3}}, "did you mean 'minimumDays'?"),
    ({"rds-backup-retention": {"minimumDays": "ten"}}, "must be a JSON integer"),
    ({"rds-backup-retention": {"enforcementLevel": "warn"}}, "allowed: mandatory"),
    ([], "JSON object"),
])
def test_a_bad_override_is_one_clear_error(tmp_path: Path, document: object,
                                           message: str) -> None:
    write(tmp_path, "dev", document)
    with pytest.raises(OverrideError, match=message.replace("?", r"\?")):
        load_overrides("dev", all_rules(), tmp_path)


def test_overrides_validate_against_the_schema(tmp_path: Path) -> None:
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.validate({"rds-backup-retention": {"minimumDays": 10}}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"rds-backup-retention": {"minimumDays": "x"}}, schema)
