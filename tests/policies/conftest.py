"""Shared set-up for the policy tests: `policies/` on sys.path, rule runners.

The runners drive the rules through the real pulumi_policy objects the pack serves
(`ResourceValidationPolicy` / `StackValidationPolicy`) with the same argument
types and the same `unknown_checking_proxy` the SDK's analyzer servicer uses.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
if str(POLICIES) not in sys.path:
    sys.path.insert(0, str(POLICIES))
