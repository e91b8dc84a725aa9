"""Benchmark `hastack check` on a synthetic plan of ~10,000 resources.

The plan is the compliant two-region AWS platform of the policy tests, copied
until it reaches the target size (each copy with its own URNs, so stack rules see
10,000 distinct resources; the last, partial copy may leave a bucket without its
companions, which the S3 rules then rightly report). It runs the full protocol:
policy host subprocess, Configure, one Analyze per custom resource (many in
flight, as the engine sends them), one AnalyzeStack. The same plan then goes
through a no-op pack (one resource and one stack policy that judge nothing) in
the same harness: the per-Analyze cost of the real pack is printed beside it and
as a ratio. Prints throughput, AnalyzeStack seconds, wall and CPU seconds, and
peak memory of both processes; asserts nothing about time.

    uv run python bench/bench_check.py [--resources 10000] [--in-flight 32]
"""

from __future__ import annotations

import argparse
import copy
import resource
import sys
import tempfile
import time
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


NOOP_PACK = """from pulumi_policy import PolicyPack, ResourceValidationPolicy, StackValidationPolicy

PolicyPack("noop", [
    ResourceValidationPolicy(name="noop-resource", description="judges nothing",
                             validate=lambda args, report: None),
    StackValidationPolicy(name="noop-stack", description="judges nothing",
                          validate=lambda args, report: None),
])
"""


def noop_pack(directory: Path) -> Path:
    """A pack of one resource and one stack policy that judge nothing: the harness's floor."""
    (directory / "config").mkdir(parents=True)
    (directory / "config" / "prod.json").write_text("{}\n")
    (directory / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.0.1\n")
    (directory / "__main__.py").write_text(NOOP_PACK)
    return directory


def run(plan: dict[str, Any], pack: Path, args: argparse.Namespace) -> tuple[Any, float, float]:
    """check_plan on `plan` with `pack`: (result, wall seconds, harness CPU seconds)."""
    cpu, started = time.process_time(), time.perf_counter()
    result = check_plan(plan, pack, tier="prod", preview_unknowns=args.preview_unknowns,
                        in_flight=args.in_flight)
    return result, time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--in-flight", type=int, default=32,
                        help="Analyze calls in flight at once")
    parser.add_argument("--preview-unknowns", action="store_true")
    args = parser.parse_args()

    plan = synthetic_plan(args.resources)
    with tempfile.TemporaryDirectory(prefix="bench-noop-pack-") as scratch:
        floor, floor_wall, floor_cpu = run(plan, noop_pack(Path(scratch)), args)
    # Peak memory from the kernel's accounting: tracemalloc would slow the harness several
    # times over and distort every figure printed beside it.
    result, elapsed, harness_cpu = run(plan, ROOT / "policies", args)
    # ru_maxrss is in KiB on Linux; RUSAGE_CHILDREN covers the (terminated) policy hosts.
    host_peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    self_peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    timings, calls = result.timings, result.resources_analyzed

    def per_call(check: Any) -> tuple[float, float]:
        t = check.timings
        return t["analyze"] / calls * 1e3, t.get("analyzeHostCpu", float("nan")) / calls * 1e3

    ours_wall, ours_cpu = per_call(result)
    noop_wall, noop_cpu = per_call(floor)
    print(f"resources in plan        {result.resources_total}")
    print(f"Analyze calls            {calls} ({args.in_flight} in flight)")
    print(f"policies                 {len(result.policies)}")
    print(f"findings                 {len(result.findings)}")
    print(f"wall time                {elapsed:.2f} s (harness CPU {harness_cpu:.2f} s)")
    for phase in ("start", "analyze", "analyzeStack"):
        host = timings.get(f"{phase}HostCpu")
        cpu = f"  (pack CPU {host:.2f} s)" if host is not None else ""
        print(f"  {phase:<22} {timings[phase]:.2f} s{cpu}")
    print(f"throughput               {result.resources_total / elapsed:,.0f} resources/s "
          f"({calls / timings['analyze']:,.0f} Analyze/s)   goal >= 1,000 resources/s")
    print(f"AnalyzeStack             {timings['analyzeStack']:.2f} s   goal <= 2 s")
    print(f"per Analyze              {ours_wall:.3f} ms wall, {ours_cpu:.3f} ms pack CPU")
    print(f"per Analyze, no-op pack  {noop_wall:.3f} ms wall, {noop_cpu:.3f} ms pack CPU "
          f"(whole no-op check {floor_wall:.2f} s, harness CPU {floor_cpu:.2f} s)")
    print(f"ratio to no-op           {ours_wall / noop_wall:.2f}x wall, "
          f"{ours_cpu / noop_cpu:.2f}x pack CPU   goal <= 1.5x")
    print(f"peak RSS harness         {self_peak_kib / 1024:.1f} MiB")
    print(f"peak RSS policy host     {host_peak_kib / 1024:.1f} MiB (largest of both packs)")


if __name__ == "__main__":
    main()
