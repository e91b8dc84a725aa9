"""`hastack verify`: does the deployed AWS environment still hold the plan's HA invariants?

The plan (`build/plan/<stack>.json`) says *what* to look for — identifiers, regions,
which buckets replicate where — and `aws` asks the live AWS APIs, read-only, whether
each invariant still holds. `cli.verify_main` is the command.
"""
