"""`hastack assess`: modeled RTO/RPO per failure domain from offline plans.

The model itself lives in the policy pack (`policies/hastack_policies/resilience`), so
the CLI and the `recovery-targets-met` policy run the same arithmetic.
"""
