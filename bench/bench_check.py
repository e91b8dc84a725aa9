"""Benchmark `hastack check` on a synthetic plan of ~10,000 resources.

The plan is the compliant two-region AWS platform of the policy tests, copied
until it reaches the target size (each copy with its own URNs, so stack rules see
10,000 distinct resources; the last, partial copy may leave a bucket without its
companions, which the S3 rules then rightly report). It runs the full protocol:
policy host subprocess, Configure, one Analyze per custom resource, one
AnalyzeStack. Prints throughput
and peak memory of both processes; asserts nothing about time.

    uv run python bench/bench_check.py [--resources 10000] [--workers 4]
"""

from __future__ import annotations

import argparse
import copy
import resource
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "policies")]

from hastack.check.analyzer import check_plan  # noqa: E402
from tests.policies.plans import aws_builder  # noqa: E402


def _renamed(urn: str | None, suffix: str) -> str | None:
    return None if urn is None else f"{urn}-{suffix}"


def synthetic_plan(target: int) -> dict[str, Any]:
    template = aws_builder().plan()
    resources: list[dict[str, Any]] = []
    copies = 0
    while len(resources) < target:
        suffix = f"c{copies}"
        for original in template["resources"]:
            if len(resources) >= target:
                break
            item = copy.deepcopy(original)
            item["urn"] = _renamed(item["urn"], suffix)
            item["name"] = f"{item['name']}-{suffix}"
            for key in ("parent", "provider", "component"):
                item[key] = _renamed(item[key], suffix)
            item["dependencies"] = [_renamed(u, suffix) for u in item["dependencies"]]
            item["propertyDependencies"] = {
                key: [_renamed(u, suffix) for u in urns]
                for key, urns in item["propertyDependencies"].items()}
            resources.append(item)
        copies += 1
    return {**template, "resources": sorted(resources, key=lambda r: r["urn"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--preview-unknowns", action="store_true")
    args = parser.parse_args()

    plan = synthetic_plan(args.resources)
    tracemalloc.start()
    started = time.perf_counter()
    result = check_plan(plan, ROOT / "policies", preview_unknowns=args.preview_unknowns,
                        workers=args.workers)
    elapsed = time.perf_counter() - started
    _, client_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # ru_maxrss is in KiB on Linux; RUSAGE_CHILDREN covers the (terminated) policy host.
    host_peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    self_peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    print(f"resources in plan        {result.resources_total}")
    print(f"Analyze calls            {result.resources_analyzed}")
    print(f"policies                 {len(result.policies)}")
    print(f"findings                 {len(result.findings)}")
    print(f"wall time                {elapsed:.2f} s")
    for phase, seconds in result.timings.items():
        print(f"  {phase:<22} {seconds:.2f} s")
    print(f"throughput               {result.resources_total / elapsed:,.0f} resources/s "
          f"({result.resources_analyzed / result.timings['analyze']:,.0f} Analyze/s)")
    print(f"peak traced (harness)    {client_peak / 2**20:.1f} MiB")
    print(f"peak RSS harness         {self_peak_kib / 1024:.1f} MiB")
    print(f"peak RSS policy host     {host_peak_kib / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
