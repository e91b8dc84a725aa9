"""How often the garbage collector runs while a Pulumi program runs under the mocks.

CPython collects its young generation every 700 net allocations (the default), which
suits programs whose new objects die young. A program run instead allocates hundreds of
thousands of objects that live to the end: the provider SDKs' modules, imported lazily
as the program first touches them, and every resource's futures and outputs. With the
default, `hastack plan prod` ran the collector about 1,500 times, a dozen of them full
collections walking the whole, growing heap: about a quarter of the plan's CPU time
(measured by turning the collector off: 25-30% less CPU, the same peak memory, so there
is little cyclic garbage to find). The young generation is made larger while a program
runs; the collector still runs, only less often.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

# Net allocations between two young-generation collections during a program run.
PROGRAM_GC_THRESHOLD = 20_000


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the young generation's threshold to PROGRAM_GC_THRESHOLD; restore it after."""
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], PROGRAM_GC_THRESHOLD), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
