"""A small AI pipeline (ingest -> infer -> publish) that survives node and region loss."""
