"""hastack guardrails: Pulumi policy rules, one module per resource family.

`catalogue` holds the declarative rule registry and builds the policy pack;
`values` and `graph` are the helpers rules use to read properties and follow
references. The pack's entry point is `policies/__main__.py`.
"""
