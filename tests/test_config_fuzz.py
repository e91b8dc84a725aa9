"""Property-based: no malformed stack file makes a Python exception escape validation."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hastack.config import ConfigError, load_from_engine_values
from hastack.config.tiers import tier_defaults
from hastack.plan.stackfile import _encode

KNOWN_KEYS = [*sorted(tier_defaults("aws", "prod")),
              "cloud", "tier", "regions", "orchestrator", "dns", "gcp"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=True), st.text(max_size=20))
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=12)), children,
                        max_size=4),
    ),
    max_leaves=12,
)
stack_configs = st.dictionaries(
    st.one_of(st.sampled_from(KNOWN_KEYS), st.text(min_size=1, max_size=15)), values, max_size=8
)


def engine_map(settings_: dict[str, Any]) -> dict[str, str]:
    return {f"hastack:{key}": _encode(value)[0] for key, value in settings_.items()}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stack_configs)
def test_random_configs_fail_only_with_config_error(settings_: dict[str, Any]) -> None:
    try:
        load_from_engine_values(engine_map(settings_), "stacks/Pulumi.fuzz.yaml")
    except ConfigError as error:
        assert error.problems, "a ConfigError always lists at least one problem"
        assert "stacks/Pulumi.fuzz.yaml" in str(error)


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries({
    "cloud": st.sampled_from(["aws", "gcp"]),
    "tier": st.sampled_from(["dev", "staging", "prod"]),
    "regions": st.fixed_dictionaries({"primary": st.sampled_from(["us-east-1", "us-central1",
                                                                 "nowhere"])}),
    "orchestrator": st.sampled_from(["prefect", "argo"]),
    "dns": st.fixed_dictionaries({"domain": st.sampled_from(["example.com", "Bad Domain"])}),
}), st.sampled_from(KNOWN_KEYS), values)
def test_near_valid_configs_with_one_bad_key(base: dict[str, Any], key: str, value: Any) -> None:
    settings_ = json.loads(json.dumps({**base, key: value}, default=str))
    try:
        load_from_engine_values(engine_map(settings_), "stacks/Pulumi.fuzz.yaml")
    except ConfigError as error:
        assert all(path is not None for path, _ in error.problems)
