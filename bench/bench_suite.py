"""Measure the test suite (or any command) with what the machine did meanwhile.

On a shared VM the wall time of `make test` moves by a factor of two between runs of
the same commit: the hypervisor takes CPU away (steal time) and the cores run at
varying speed. A wall figure alone says little, so this prints, for one run of the
command: its wall seconds; the CPU seconds of its whole process tree (user+sys, from
the kernel's accounting of waited-for children); the machine's idle and steal seconds
over the run (all cores, from /proc/stat); and a calibration before and after, the
seconds a plain Python loop of 20 million additions takes in a fresh interpreter, so
runs on a faster or slower machine (or hour) can be compared. Asserts nothing.

    uv run --no-sync python bench/bench_suite.py [--] [command ...]   (default: make unit)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

CALIBRATION = "import time\nt=time.perf_counter()\nx=0\nfor i in range({n}): x+=i\n" \
              "print(time.perf_counter()-t)"
LOOP = 20_000_000


def calibration_seconds(iterations: int = LOOP) -> float:
    out = subprocess.run([sys.executable, "-c", CALIBRATION.format(n=iterations)],
                         capture_output=True, text=True, check=True)
    return float(out.stdout)


def cpu_times() -> dict[str, float] | None:
    """Machine-wide idle and steal seconds since boot (summed over cores); None off Linux."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    # proc(5): cpu user nice system idle iowait irq softirq steal ...
    return {"idle": int(fields[4]) / ticks, "iowait": int(fields[5]) / ticks,
            "steal": int(fields[8]) / ticks}


def measure(command: list[str], loop: int = LOOP) -> dict[str, object]:
    before_loop = calibration_seconds(loop)
    before, children = cpu_times(), resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    # In the caller's directory, so a relative command (`.ci/run`) is the caller's own.
    returncode = subprocess.run(command, check=False).returncode
    wall = time.perf_counter() - started
    after, children_after = cpu_times(), resource.getrusage(resource.RUSAGE_CHILDREN)
    result: dict[str, object] = {
        "command": " ".join(command), "returncode": returncode, "cores": os.cpu_count(),
        "wallSeconds": round(wall, 1),
        "cpuSeconds": round(children_after.ru_utime + children_after.ru_stime
                            - children.ru_utime - children.ru_stime, 1),
        "calibrationSeconds": [round(before_loop, 3), round(calibration_seconds(loop), 3)],
    }
    if before is not None and after is not None:
        result.update({f"{key}Seconds": round(after[key] - before[key], 1) for key in before})
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", nargs="*", help="what to run (default: make unit)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    command = args.command or ["make", "unit"]
    if shutil.which(command[0]) is None:
        parser.error(f"command not found: {command[0]!r}")
    result = measure(command)
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        width = max(len(key) for key in result)
        for key, value in result.items():
            print(f"{key:<{width}}  {value}")
    return 0 if result["returncode"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
