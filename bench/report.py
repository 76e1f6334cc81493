"""Turn the benchmarks' JSON lines (see `bench/results.py`) into `bench/results.md`: the machine, then one table row
per figure (median, runs, same-run reference, ratio, target, met) and each benchmark's sizes.

Run: .venv/bin/python -m bench.report [--input bench/results/latest.jsonl] [--output bench/results.md]
[--failed "profiles send"]. `make bench` runs it after the benchmarks.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.results import RESULTS_ENV

ORDER = ("ingest", "profiles", "segments", "clv", "journeys", "send")


def machine() -> dict[str, str]:
    """Cores, memory and CPU model (from /proc), Python, date and git commit of the working tree."""
    model, memory = platform.processor() or platform.machine(), "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
                break
    except OSError:
        pass
    return {"cores": str(os.cpu_count()), "memory": memory, "CPU": model, "Python": sys.version.split()[0],
            "OS": f"{platform.system()} {platform.release()}", "date": time.strftime("%Y-%m-%d %H:%M %Z"),
            "commit": commit()}  # fmt: skip


def commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout.strip()

    try:
        head = git("log", "-1", "--format=%h (%cs)")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{head}{' + uncommitted changes' if dirty else ''}"


def number(x: float | None, unit: str = "") -> str:
    if x is None:
        return "never"
    size = abs(x)
    text = f"{x:,.0f}" if size >= 100 else f"{x:.1f}" if size >= 10 else f"{x:.2f}" if size >= 1 else f"{x:.2g}"
    return f"{text}{' ' + unit if unit else ''}"


def param(value: Any) -> str:
    if isinstance(value, list):
        return " / ".join(param(v) for v in value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:,}" if isinstance(value, int) or value.is_integer() and abs(value) >= 1000 else f"{value:.3g}"


def runs(values: list[float | None]) -> str:
    return " / ".join(number(x) for x in values)


def row(line: dict[str, Any]) -> str:
    unit, ref = line["unit"], line.get("reference")
    reference = f"{ref['name']}: {number(ref['median'], unit)} (runs {runs(ref['runs'])})" if ref else "—"
    ratio = f"{line['ratio']:.2f}×" if line.get("ratio") is not None else "—"
    met = {True: "yes", False: "**no**", None: "—"}[line.get("met")]
    cells = [line["bench"], line["figure"], f"**{number(line['median'], unit)}**", runs(line["runs"]), reference,
             ratio, line.get("target") or "—", met]  # fmt: skip
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def render(lines: list[dict[str, Any]], failed: list[str], info: dict[str, str]) -> str:
    quick = any(line.get("quick") for line in lines)
    benches = sorted({line["bench"] for line in lines}, key=lambda b: (ORDER.index(b) if b in ORDER else 99, b))
    out = ["# Benchmark results (QUICK MODE)" if quick else "# Benchmark results", ""]
    if quick:
        out += ["**Quick mode: small sizes that check the pipeline end to end. These are not the benchmarks' "
                "figures; do not compare them with the targets.**", ""]  # fmt: skip
    out += ["Written by `make bench` (`bench/report.py`). Load generator, broker, services and databases all run on "
            "this one machine; each figure is the median of its runs, beside a reference measured in the same run.",
            "", "| machine | |", "|---|---|"]  # fmt: skip
    out += [f"| {k} | {v} |" for k, v in info.items()]
    loads = [line["load1"] for line in lines if line.get("load1") is not None]
    if loads:  # other work on the machine (tests, builds) shows up in latency and throughput
        out.append(f"| load average (1 min) as figures were recorded | {min(loads):.1f} to {max(loads):.1f} |")
    out += ["", "| benchmark | figure | median | runs | same-run reference | ratio | target | met |",
            "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for bench in benches:
        out += [row(line) for line in lines if line["bench"] == bench]
    if failed:
        out += ["", f"**Failed (no figures): {', '.join(failed)}.** See the output of `make bench`."]
    out += ["", "Sizes and parameters:", ""]
    for bench in benches:
        params: dict[str, Any] = {}
        for line in lines:
            if line["bench"] == bench:
                params |= {k: v for k, v in line.get("params", {}).items() if k not in params}
        text = ", ".join(f"{k} {param(v)}" for k, v in params.items())
        out.append(f"- {bench}: {text}")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--input", default=os.environ.get(RESULTS_ENV, "bench/results/latest.jsonl"))
    parser.add_argument("--output", default="bench/results.md")
    parser.add_argument("--failed", default="", help="benchmarks that exited with an error (space-separated)")
    args = parser.parse_args()
    path = Path(args.input)
    lines = [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.exists() else []
    failed = args.failed.split()
    if not lines and not failed:
        raise SystemExit(f"no figures in {path}: run the benchmarks with {RESULTS_ENV}={path}")
    Path(args.output).write_text(render(lines, failed, machine()))
    print(f"wrote {args.output} ({len(lines)} figures{', quick mode' if any(x.get('quick') for x in lines) else ''})")


if __name__ == "__main__":
    main()
