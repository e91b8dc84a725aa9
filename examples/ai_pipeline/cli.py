"""The pipeline's stages as a command, for Argo steps (one container per stage).

    python -m examples.ai_pipeline.cli run-stage ingest --dataset reviews --documents 20
    python -m examples.ai_pipeline.cli status --dataset reviews --documents 20

`run-stage` is idempotent: a committed stage is verified and reused, never recomputed.
`status` prints how many leading stages are committed (the recovery template skips
them) and exits 2 with the reason when a checkpoint is corrupt. Checkpoints go to
$HASTACK_CHECKPOINT_URL.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from examples.ai_pipeline import stages
from hastack_workflows import CheckpointError, committed_stages, run_stage, store_from_url

CHECKPOINT_URL_ENV = "HASTACK_CHECKPOINT_URL"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ai-pipeline")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("run-stage", "status"):
        command = commands.add_parser(name)
        if name == "run-stage":
            command.add_argument("stage", choices=stages.STAGES)
        command.add_argument("--dataset", required=True)
        command.add_argument("--documents", type=int, required=True)
        command.add_argument("--model", default="lexicon-v1")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    url = os.environ.get(CHECKPOINT_URL_ENV)
    if not url:
        print(f"error: {CHECKPOINT_URL_ENV} is not set (s3://<bucket>/checkpoints)",
              file=sys.stderr)
        return 2
    try:
        params = stages.parameters(args.dataset, args.documents, args.model)
        store, run = store_from_url(url), stages.key_for(params)
        if args.command == "status":
            print(len(committed_stages(store, run, stages.STAGES)))
            return 0
        stage: str = args.stage

        def work() -> bytes:
            return stages.compute(stage, params, stages.stage_input(store, run, stage))

        checkpoint, computed = run_stage(store, run, stage, work)
    except (CheckpointError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps({"stage": stage, "sha256": checkpoint.sha256,
                      "dataKey": checkpoint.data_key, "computed": computed}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
