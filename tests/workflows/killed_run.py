"""A flow run that is killed mid-way: run by test_prefect_example in its own process group.

It runs the example pipeline under the real engine, against the test's Prefect API
(PREFECT_API_URL) and with the platform's defaults as environment variables, as on a
flow-run pod. Its model announces itself on stdout and then blocks, so the test can
SIGKILL this process during `infer`, after `ingest` was committed: what a node dying
under a flow-run pod looks like to the API (the run never reports back) and to the
bucket (a committed stage, nothing of the next).
"""

from __future__ import annotations

import sys

MODEL = "stalls-during-infer"


def _stall(_text: str) -> float:
    print("INFER-STARTED", flush=True)
    sys.stdin.read()  # blocks until killed (stdin is a pipe nobody writes to)
    raise SystemExit("stdin closed before the test killed this run")


def main() -> None:
    from examples.ai_pipeline import prefect_flows, stages

    stages.MODELS[MODEL] = _stall
    prefect_flows.ai_pipeline(dataset=sys.argv[1], documents=int(sys.argv[2]), model=MODEL)


if __name__ == "__main__":
    main()
