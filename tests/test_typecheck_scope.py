"""mypy reads only the provider SDK modules the project uses, and every one it uses.

pulumi-aws and pulumi-gcp are ~560 MiB of generated sources whose top-level packages
import every service under TYPE_CHECKING, so mypy without a cache (a clean clone, CI)
spent ~3 minutes type-checking services the project never calls. pyproject.toml skips
the SDKs' modules except a list of the ones used; a skipped module is `Any` to mypy, so a
service used in the code but missing from that list would be checked against nothing.
These tests derive the used modules from the code and hold the list to them.
"""

from __future__ import annotations

import ast
import functools
import importlib
import io
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from mypy.config_parser import parse_config_file
from mypy.options import Options

REPO = Path(__file__).resolve().parents[1]
SDKS = ("pulumi_aws", "pulumi_gcp", "pulumi_kubernetes")
# The directories mypy checks (pyproject's `packages`, with `mypy_path = "policies"`).
CHECKED = ("hastack", "components", "policies/hastack_policies", "hastack_workflows", "examples")


@functools.cache
def _options() -> Options:
    """pyproject.toml's mypy settings, read by mypy's own parser."""
    options = Options()
    parse_config_file(options, lambda: None, str(REPO / "pyproject.toml"),
                      io.StringIO(), io.StringIO())
    return options


def _followed(module: str) -> bool:
    """What mypy does with `module`, by its own precedence of override sections."""
    return _options().clone_for_module(module).follow_imports == "normal"


def _listed() -> list[str]:
    """The modules named in the override that makes mypy read SDK modules."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    return [module for section in config["tool"]["mypy"].get("overrides", [])
            if section.get("follow_imports") == "normal" for module in section["module"]]


@functools.cache
def _sdk_references() -> tuple[tuple[str, str, str], ...]:
    """(file, sdk, first attribute or submodule) for every use of a provider SDK."""
    return tuple(_walk_sdk_references())


def _walk_sdk_references() -> Iterator[tuple[str, str, str]]:
    for directory in CHECKED:
        for path in sorted((REPO / directory).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            aliases: dict[str, str] = {}
            where = str(path.relative_to(REPO))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    for name in node.names:
                        parts = name.name.split(".")
                        if parts[0] not in SDKS:
                            continue
                        if len(parts) > 1:
                            yield where, parts[0], parts[1]
                        if name.asname and len(parts) == 1:
                            aliases[name.asname] = parts[0]
                        elif not name.asname:
                            aliases[parts[0]] = parts[0]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    parts = node.module.split(".")
                    if parts[0] not in SDKS:
                        continue
                    if len(parts) > 1:
                        yield where, parts[0], parts[1]
                    else:
                        for name in node.names:
                            yield where, parts[0], name.name
            for node in ast.walk(tree):
                if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                        and node.value.id in aliases):
                    yield where, aliases[node.value.id], node.attr


@functools.cache
def _defining_module(sdk: str, attribute: str) -> str:
    """The module mypy must read for `sdk.attribute`: a service package or a top-level file."""
    package = importlib.import_module(sdk)
    root = Path(package.__file__).parent  # type: ignore[arg-type]
    if (root / attribute / "__init__.py").is_file():
        return f"{sdk}.{attribute}"
    value = getattr(package, attribute)
    return getattr(value, "__module__", f"{sdk}.{attribute}")


def test_every_sdk_module_the_code_uses_is_type_checked() -> None:
    references = _sdk_references()
    assert len({sdk for _, sdk, _ in references}) == len(SDKS), references[:5]
    missing = sorted({f"{_defining_module(sdk, attr)} (used in {where})"
                      for where, sdk, attr in references
                      if not _followed(_defining_module(sdk, attr))})
    assert not missing, ("add these to the follow_imports = \"normal\" override in "
                         f"pyproject.toml: {missing}")


def test_the_sdks_are_skipped_by_default_and_the_list_has_nothing_unused() -> None:
    for sdk in SDKS:
        assert _followed(sdk), sdk
        assert not _followed(f"{sdk}.no_such_service"), f"{sdk}: services are not skipped"
    used = {_defining_module(sdk, attr) for _, sdk, attr in _sdk_references()}
    helpers = {"_enums", "_inputs", "_utilities", "_tables", "outputs", "provider", "config"}
    for pattern in _listed():
        module = pattern.removesuffix(".*")
        if module in SDKS or module.rsplit(".", 1)[-1] in helpers:
            continue
        assert module in used, f"{pattern} is followed by mypy but nothing uses it"


@pytest.mark.parametrize(("module", "followed"), [
    ("pulumi_aws", True), ("pulumi_aws.ec2", True), ("pulumi_aws.ec2.vpc", True),
    ("pulumi_aws.lambda_", False), ("pulumi_gcp.bigquery.dataset", False),
    ("pulumi_aws.get_partition", True), ("pulumi_aws.get_region", False), ("boto3", True),
])
def test_precedence_as_mypy_applies_it(module: str, followed: bool) -> None:
    assert _followed(module) is followed
