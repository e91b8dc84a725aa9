"""Cluster add-ons installed by the workloads stack (see base.py for the record shape)."""
