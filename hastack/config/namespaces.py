"""Config keys outside `hastack:`: a misspelt namespace or provider key is an error.

A stack file key `hastak:tier` or `aws:regoin` is accepted by the engine and read by
nobody, so the setting silently falls back to a default. The provider keys are read
from the installed SDKs' own `config/vars.py` (`__config__.get('region')` …), so the
list is exactly what the pinned provider reads. Namespaces whose SDK has no such
module (kubernetes, random) and the engine's own `pulumi:` keys are accepted whole.
"""

from __future__ import annotations

import difflib
import importlib.util
import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

Problem = tuple[str, str]

# Namespaces a hastack stack may configure: the program, the providers it uses, the engine.
OPEN_NAMESPACES = ("kubernetes", "pulumi", "random")
CHECKED_NAMESPACES = {"aws": "pulumi_aws", "gcp": "pulumi_gcp"}
_GET = re.compile(r"__config__\.get\w*\('([A-Za-z0-9_]+)'")


@cache
def provider_keys(namespace: str) -> frozenset[str]:
    """The config keys the installed SDK of `namespace` reads (empty if not installed)."""
    spec = importlib.util.find_spec(CHECKED_NAMESPACES[namespace])
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    vars_py = Path(next(iter(spec.submodule_search_locations))) / "config" / "vars.py"
    if not vars_py.is_file():
        return frozenset()
    return frozenset(_GET.findall(vars_py.read_text()))


def namespace_problems(keys: Iterable[str], project: str) -> list[Problem]:
    """Every key whose namespace, or provider key, nobody reads."""
    known = sorted({project, *OPEN_NAMESPACES, *CHECKED_NAMESPACES})
    problems: list[Problem] = []
    for key in sorted(keys):
        namespace, _, name = key.partition(":")
        if namespace in (project, *OPEN_NAMESPACES):
            continue
        if namespace in CHECKED_NAMESPACES:
            allowed = provider_keys(namespace)
            if allowed and name not in allowed:
                problems.append((key, f"the {namespace} provider has no config key '{name}'"
                                      f"{did_you_mean(name, allowed)}"))
            continue
        hint = did_you_mean(namespace, known).lstrip("; ")
        problems.append((key, f"unknown namespace '{namespace}'; {hint + ' ' if hint else ''}"
                              f"allowed: {', '.join(known)}"))
    return problems


def provider_region_problems(engine_config: Mapping[str, Any], cloud: str,
                             primary: str) -> list[Problem]:
    """`aws:region` / `gcp:region` must name regions.primary when both are set.

    The provider region is where default-provider calls go (and what the Pulumi
    console shows); hastack builds every regional resource through explicit
    providers from `regions`, so a different value would mislead, never help.
    """
    key = f"{cloud}:region"
    value = engine_config.get(key)
    if value in (None, "") or value == primary:
        return []
    return [(key, f"'{value}' disagrees with hastack:regions.primary ('{primary}'); "
                  f"set it to '{primary}' or remove it")]


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """"; did you mean 'x'?" for the closest candidate, or ""."""
    match = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.6)
    return f"; did you mean '{match[0]}'?" if match else ""
