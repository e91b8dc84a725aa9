"""The workloads layer: one stack per cluster (add-ons and the orchestrator)."""
