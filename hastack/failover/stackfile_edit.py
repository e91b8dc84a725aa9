"""Change one scalar key of a stack file in place, keeping every comment and line.

A failover changes exactly `hastack:activeRegion`. The edit is textual (the value
on that key's line, or a new line after the `hastack:regions:` block), then
re-parsed to prove that nothing else changed, and written atomically (a temp file
renamed over the original), so a crash never leaves a half-written stack file.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml


class StackFileEditError(ValueError):
    pass


def _config(text: str, path: Path) -> dict[str, Any]:
    document = yaml.safe_load(text) or {}
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise StackFileEditError(f"{path}: no top-level config: mapping")
    return config


def set_scalar(path: Path, key: str, value: str) -> bool:
    """Set `config.<key>` to `value`; returns False when it already had that value."""
    text = path.read_text()
    before = _config(text, path)
    if before.get(key) == value:
        return False
    line = re.compile(rf"^(  {re.escape(key)}:[ \t]*)([^#\n]*?)([ \t]*(#.*)?)$", re.MULTILINE)
    if line.search(text):
        edited = line.sub(lambda m: f"{m.group(1)}{value}{m.group(3)}", text, count=1)
    else:
        edited = _insert_after_regions(text, key, value, path)
    after = _config(edited, path)
    expected = {**before, key: value}
    if after != expected:
        raise StackFileEditError(f"{path}: editing {key} would change other keys; "
                                 "edit it by hand")
    _atomic_write(path, edited)
    return True


def _insert_after_regions(text: str, key: str, value: str, path: Path) -> str:
    lines = text.splitlines(keepends=True)
    start = next((i for i, text_line in enumerate(lines)
                  if text_line.startswith("  hastack:regions:")), None)
    if start is None:
        raise StackFileEditError(f"{path}: no hastack:regions block to place {key} after")
    end = start + 1
    while end < len(lines) and lines[end].startswith("    "):
        end += 1
    lines.insert(end, f"  {key}: {value}\n")
    return "".join(lines)


def _atomic_write(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
