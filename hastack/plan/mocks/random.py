"""Mock outputs for pulumi-random resources.

The values are deterministic placeholders; the SDK marks `result` secret, so a
plan only ever shows the secret marker in their place.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hastack.plan.mocks import MockContext, outputs_for


@outputs_for("random:index/randomPassword:RandomPassword")
def _password(context: MockContext) -> dict[str, Any]:
    length = int(context.inputs.get("length", 32))
    text = (context.digest(64) * 4)[:length]
    keepers = context.inputs.get("keepers")
    if keepers:
        # Like the provider: new keepers, new value (a rotation); none, the first value.
        seed = f"{text}|{json.dumps(keepers, sort_keys=True)}".encode()
        text = (hashlib.sha256(seed).hexdigest() * 4)[:length]
    return {"result": text, "bcryptHash": f"$2a$10${context.digest(53)}"}


@outputs_for("random:index/randomId:RandomId")
def _random_id(context: MockContext) -> dict[str, Any]:
    length = int(context.inputs.get("byteLength", 4))
    return {"hex": context.digest(length * 2), "b64Url": context.digest(length)}
