"""Entry point the policy host runs: `python -m pulumi.policy <engine> policies/`.

Only builds the pack; the rules live in `hastack_policies` (one module per family).
The pack's default enforcement levels are the prod ones, so running it without a
config file fails closed; `policies/config/<tier>.json` relaxes dev and staging.
"""

from hastack_policies.catalogue import build_policy_pack

build_policy_pack()
