"""Read a stack file the way the Pulumi engine hands it to a program.

The engine merges the project's `config:` defaults (Pulumi.yaml) under the stack
file's `config:`, then passes every value as a string: scalars as text, objects
and lists as JSON. Secure values are decrypted by the engine; offline we cannot,
so each becomes a placeholder flagged secret — the program treats it as a secret
and the plan shows only the marker.
"""

from __future__ import annotations

import difflib
import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hastack.config.errors import ConfigError
from hastack.config.loader import VERSION_KEYS
from hastack.config.namespaces import namespace_problems

OFFLINE_SECURE_PLACEHOLDER = "offline-placeholder-for-secure-value"


@dataclass
class StackFile:
    name: str
    path: Path
    project: str
    engine_config: dict[str, str]
    secret_keys: list[str] = field(default_factory=list)

    @property
    def display_path(self) -> str:
        return f"stacks/{self.path.name}"


def project_root(start: Path | None = None) -> Path:
    """The directory holding Pulumi.yaml, searched upwards from `start` (or cwd)."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    raise FileNotFoundError("no Pulumi.yaml here or in any parent directory")


def stacks_dir(root: Path) -> Path:
    """Where the stack files are (Pulumi.yaml `stackConfigDir`)."""
    return root / _stack_config_dir(root)


def stack_names(root: Path) -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")]
                  for p in stacks_dir(root).glob("Pulumi.*.yaml"))


# libyaml's parser where PyYAML was built with it; the constructor and resolver are the same
# Python classes either way, so a valid document loads to the same data.
_FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> Any:
    """`yaml.safe_load` of a file, parsed once per distinct content in a process.

    Planning one environment reads Pulumi.yaml and every stack file dozens of times
    (stack listing, layer and environment lookups); the text is re-read each time, so an
    edited file is parsed afresh. The result is shared: callers must not mutate it.
    """
    return _parse_yaml(path.read_text())


@functools.lru_cache(maxsize=256)
def _parse_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_FAST_LOADER)  # a safe loader (SafeLoader or CSafeLoader)


def _project_file(root: Path) -> dict[str, Any]:
    data = read_yaml(root / "Pulumi.yaml")
    return data if isinstance(data, dict) else {}


def _stack_config_dir(root: Path) -> str:
    return str(_project_file(root).get("stackConfigDir", "."))


def stack_path(root: Path, stack: str) -> Path:
    return root / _stack_config_dir(root) / f"Pulumi.{stack}.yaml"


def read_stack(root: Path, stack: str) -> StackFile:
    project = _project_file(root)
    project_name = str(project["name"])
    path = stack_path(root, stack)
    display = f"stacks/{path.name}"
    if not path.is_file():
        raise NoSuchStack(stack, stack_names(root))
    text = path.read_text()
    try:
        # The pure-Python composer first: its error messages are the ones users see.
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        document = _parse_yaml(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        reason = getattr(exc, "problem", exc)
        raise ConfigError(display, [("", f"not valid YAML{where}: {reason}")]) from None
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise ConfigError(display, [("", "the file needs a top-level 'config:' mapping")])
    problems = yaml_traps(node, display)
    if problems:
        keys = [_qualify(str(k), project_name) for k in document.get("config", {})]
        raise ConfigError(display, problems + namespace_problems(keys, project_name))
    merged = _project_defaults(project, project_name)
    merged.update({_qualify(k, project_name): v for k, v in document.get("config", {}).items()})
    engine_config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in sorted(merged.items()):
        encoded, is_secret = _encode(value)
        engine_config[key] = encoded
        if is_secret:
            secret_keys.append(key)
    return StackFile(stack, path, project_name, engine_config, secret_keys)


class NoSuchStack(ConfigError):
    """A stack name with no stack file: say so, list the stacks, suggest the closest."""

    def __init__(self, stack: str, available: list[str]) -> None:
        self.stack, self.available = stack, available
        super().__init__(f"stacks/Pulumi.{stack}.yaml", [])

    def render(self) -> str:
        hint = difflib.get_close_matches(self.stack, self.available, n=1, cutoff=0.5)
        suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
        listed = ", ".join(self.available) or "none"
        return (f"no such stack '{self.stack}' (no stacks/Pulumi.{self.stack}.yaml){suggestion}\n"
                f"stacks: {listed}")


# Keys Pulumi reads from a stack file (pulumi/sdk/go/common/workspace/project.go ProjectStack).
STACK_FILE_KEYS = ("config", "encryptedkey", "encryptionsalt", "environment", "secretsprovider")
_NUMBER_TAGS = ("tag:yaml.org,2002:float", "tag:yaml.org,2002:int")


def yaml_traps(node: yaml.Node | None, display: str) -> list[tuple[str, str]]:
    """What YAML accepts but nobody meant: duplicate keys, numbers for versions,
    a top-level key Pulumi does not read (a misspelt `config:`)."""
    problems: list[tuple[str, str]] = []
    if not isinstance(node, yaml.MappingNode):
        return problems
    for key_node, _ in node.value:
        key = str(key_node.value)
        if key not in STACK_FILE_KEYS:
            hint = difflib.get_close_matches(key, STACK_FILE_KEYS, n=1)
            suggestion = f"did you mean '{hint[0]}'? " if hint else ""
            problems.append(("", f"line {key_node.start_mark.line + 1}: unknown top-level key "
                                 f"'{key}'; {suggestion}allowed: {', '.join(STACK_FILE_KEYS)}"))
    _walk(node, "", problems, top=True)
    return problems


def _walk(node: yaml.Node, path: str, problems: list[tuple[str, str]], top: bool = False) -> None:
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, f"{path}.{index}", problems)
        return
    if not isinstance(node, yaml.MappingNode):
        return
    seen: dict[str, int] = {}
    for key_node, value_node in node.value:
        key = str(key_node.value)
        line = key_node.start_mark.line + 1
        # Config keys are `ns:key`; below them, paths are dotted like the error paths.
        child = key if top or path in ("", "config") else f"{path}.{key}"
        if path == "config" and ":" not in key:
            child = key  # a bare key is qualified with the project name by Pulumi
        if key in seen:
            where = "" if top else _shown(child)
            what = f"top-level key '{key}': " if top else ""
            problems.append((where, f"{what}duplicate key at lines {seen[key]} and {line}; "
                                    "YAML keeps only the last: keep one"))
        seen.setdefault(key, line)
        if (key in VERSION_KEYS and isinstance(value_node, yaml.ScalarNode)
                and value_node.style is None and value_node.tag in _NUMBER_TAGS):
            problems.append((_shown(child), f"line {line}: unquoted {value_node.value} is a "
                                            f"number in YAML (read as {_as_number(value_node)}); "
                                            f"quote it: {key}: \"{value_node.value}\""))
        _walk(value_node, "config" if top and key == "config" else child, problems)


def _shown(path: str) -> str:
    # "hastack:database.engineVersion" is shown as the error path "database.engineVersion".
    return path.split(":", 1)[1] if path.startswith("hastack:") else path


def _as_number(node: yaml.ScalarNode) -> object:
    return yaml.safe_load(node.value)


def _qualify(key: str, project_name: str) -> str:
    return key if ":" in key else f"{project_name}:{key}"


def _project_defaults(project: dict[str, Any], project_name: str) -> dict[str, Any]:
    defaults = {}
    for key, declaration in (project.get("config") or {}).items():
        if isinstance(declaration, dict) and "default" in declaration:
            defaults[_qualify(key, project_name)] = declaration["default"]
    return defaults


def _encode(value: Any) -> tuple[str, bool]:
    """Engine encoding of one config value, and whether any part of it is secure."""
    found_secure = False

    def strip_secure(node: Any) -> Any:
        nonlocal found_secure
        if isinstance(node, dict):
            if set(node) == {"secure"}:
                found_secure = True
                return OFFLINE_SECURE_PLACEHOLDER
            return {k: strip_secure(v) for k, v in node.items()}
        if isinstance(node, list):
            return [strip_secure(v) for v in node]
        return node

    plain = strip_secure(value)
    if isinstance(plain, (dict, list)):
        return json.dumps(plain, sort_keys=True), found_secure
    if isinstance(plain, bool):
        return ("true" if plain else "false"), found_secure
    return ("" if plain is None else str(plain)), found_secure
