"""Machine-readable figures: each benchmark appends one JSON line per figure to `$TESSERA_BENCH_RESULTS` when set.

`bench/report.py` turns those lines into `bench/results.md`. Quick mode (`--quick`, or `TESSERA_BENCH_QUICK=1`)
maps each benchmark to small sizes, to check the pipeline end to end; its figures are marked as such.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time
from collections.abc import Sequence
from typing import Any

RESULTS_ENV = "TESSERA_BENCH_RESULTS"
QUICK_ENV = "TESSERA_BENCH_QUICK"


def add_quick(parser: argparse.ArgumentParser, sizes: str) -> None:
    """`--quick`: small sizes (`sizes` says which), also turned on by `TESSERA_BENCH_QUICK=1`."""
    parser.add_argument("--quick", action="store_true", default=os.environ.get(QUICK_ENV) == "1",
                        help=f"small sizes to check the pipeline end to end ({sizes}); also {QUICK_ENV}=1")  # fmt: skip


def _number(x: float | None) -> float | None:
    """JSON has no infinity: a figure that never happened (e.g. an event that never arrived) is null."""
    return float(x) if x is not None and math.isfinite(x) else None


def record(
    bench: str,
    figure: str,
    runs: Sequence[float],
    unit: str,
    *,
    reference: tuple[str, Sequence[float]] | None = None,
    ratio: float | None = None,
    target: str = "",
    met: bool | None = None,
    quick: bool = False,
    params: dict[str, Any] | None = None,
) -> None:
    """Append one figure: its median over `runs`, the runs, the same-run reference (name, runs, same unit), the
    ratio figure / reference (computed from the medians when not given), the target and whether it is met."""
    path = os.environ.get(RESULTS_ENV)
    if not path:
        return
    median = statistics.median(runs) if runs else None
    line: dict[str, Any] = {"bench": bench, "figure": figure, "unit": unit, "median": _number(median),
                            "runs": [_number(x) for x in runs], "target": target, "met": met, "quick": quick,
                            "params": params or {}, "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                            "load1": os.getloadavg()[0]}  # fmt: skip
    if reference is not None:
        name, ref_runs = reference
        ref_median = statistics.median(ref_runs)
        line["reference"] = {"name": name, "median": _number(ref_median), "runs": [_number(x) for x in ref_runs]}
        if ratio is None and median is not None and ref_median:
            ratio = median / ref_median
    line["ratio"] = _number(ratio)
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")
