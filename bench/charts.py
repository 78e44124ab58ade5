"""Charts of a bench run, for ``docs/performance.md``: matplotlib, SVG.

    .venv/bin/python -m bench.charts bench/results/<stamp>.json [--out docs/charts]

``bash bench/run.sh`` calls :func:`render_charts` after every full run (with
``latest.md``), so the charts always show the same run as the tables. Two
charts, both from the run's ``summary`` (median, min, max per metric):

* ``ratios.svg`` — per workload, how pagi-1w compares with each peer on the
  workload's headline metric, turned so that **above 1 always favours pagi**
  (peer ÷ pagi for latencies, pagi ÷ peer for rates);
* ``latency.svg`` — per workload with latency percentiles (the wrk ones), each
  server's p50, p90, p99 and max: medians joined by a line, min to max as bars,
  on a log scale.

Needs the ``bench`` extra (``pip install -e '.[bench]'``). The SVG is written
without a date and with a fixed hash salt, so the same results give the same
file.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from bench.report import PAGI_SERVERS

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "docs" / "charts"

#: The percentiles drawn, in order, with their labels (the metrics wrk workloads record).
PERCENTILES = (("p50_us", "p50"), ("p90_us", "p90"), ("p99_us", "p99"), ("max_us", "max"))
REFERENCE = "pagi-1w"


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update(
        {"svg.hashsalt": "pagi-bench", "svg.fonttype": "none", "font.size": 9}
    )
    import matplotlib.pyplot as plt

    return plt


def _median(summary: dict[str, Any], wid: str, server: str, metric: str) -> float | None:
    stats = summary.get(wid, {}).get(server, {}).get("metrics", {}).get(metric)
    return float(stats["median"]) if stats and stats["median"] else None


def advantages(result: dict[str, Any]) -> dict[str, dict[str, float]]:
    """``{workload: {peer: x}}``, x > 1 when pagi-1w is better on the headline metric."""
    out: dict[str, dict[str, float]] = {}
    summary = result["summary"]
    for wid, meta in result["workloads"].items():
        mine = _median(summary, wid, REFERENCE, meta["headline"])
        if mine is None:
            continue
        for peer in result["servers_order"]:
            theirs = _median(summary, wid, peer, meta["headline"])
            if peer in PAGI_SERVERS or theirs is None:
                continue
            ratio = mine / theirs if meta["higher_is_better"] else theirs / mine
            out.setdefault(wid, {})[peer] = ratio
    return out


def ratio_chart(result: dict[str, Any], path: Path) -> Path | None:
    """Grouped bars: one group per workload, one bar per peer; None if there is no peer."""
    data = advantages(result)
    if not data:
        return None
    plt = _pyplot()
    workloads = list(data)
    peers = [p for p in result["servers_order"] if any(p in data[w] for w in workloads)]
    width = 0.8 / len(peers)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(workloads) + 2), 4.0))
    for i, peer in enumerate(peers):
        xs = [w + (i - (len(peers) - 1) / 2) * width for w in range(len(workloads))]
        ys = [data[wid].get(peer, math.nan) for wid in workloads]
        ax.bar(xs, ys, width, label=peer)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log", base=2)
    ax.set_xticks(range(len(workloads)))
    ax.set_xticklabels([f"{wid}\n{result['workloads'][wid]['name']}" for wid in workloads])
    ax.set_ylabel(f"{REFERENCE} advantage (above 1: {REFERENCE} better)")
    ax.set_title(f"{REFERENCE} against each server, headline metric of each workload")
    ax.legend(fontsize=7, ncols=min(4, len(peers)))
    return _save(plt, fig, path)


def latency_chart(result: dict[str, Any], path: Path) -> Path | None:
    """One panel per workload with percentiles; None if the run has none."""
    summary = result["summary"]
    panels = [
        wid
        for wid in result["workloads"]
        if any(_median(summary, wid, s, "p50_us") for s in result["servers_order"])
    ]
    if not panels:
        return None
    plt = _pyplot()
    cols = min(2, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.0 * cols, 3.6 * rows), squeeze=False)
    for ax, wid in zip(axes.flat, panels, strict=False):
        for server in result["servers_order"]:
            stats = summary.get(wid, {}).get(server, {}).get("metrics", {})
            points = [(label, stats[key]) for key, label in PERCENTILES if key in stats]
            if not points:
                continue
            xs = [label for label, _ in points]
            med = [s["median"] / 1000 for _, s in points]
            low = [(s["median"] - s["min"]) / 1000 for _, s in points]
            high = [(s["max"] - s["median"]) / 1000 for _, s in points]
            style = "-o" if server in PAGI_SERVERS else "--."
            ax.errorbar(xs, med, yerr=[low, high], fmt=style, capsize=2, label=server)
        ax.set_yscale("log")
        ax.set_ylabel("latency (ms)")
        ax.set_title(f"{wid} · {result['workloads'][wid]['title']}", fontsize=8)
        ax.grid(True, which="major", axis="y", linewidth=0.3)
        ax.legend(fontsize=6)
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    fig.suptitle("Latency percentiles: median of the repetitions, bars min to max")
    return _save(plt, fig, path)


def _save(plt: Any, fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, metadata={"Date": None} if path.suffix == ".svg" else None)
    plt.close(fig)
    return path


def render_charts(result: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write ``ratios.svg`` and ``latency.svg`` (those the run has data for)."""
    made = [
        ratio_chart(result, out_dir / "ratios.svg"),
        latency_chart(result, out_dir / "latency.svg"),
    ]
    return [p for p in made if p is not None]


def charts_or_reason(result: dict[str, Any], out_dir: Path) -> str:
    """What :func:`render_charts` wrote, or why nothing was (one line for the bench log)."""
    try:
        made = render_charts(result, out_dir)
    except ImportError:
        return "bench: charts skipped: matplotlib is missing (pip install -e '.[bench]')"
    names = ", ".join(str(p) for p in made) or "nothing (no ratio or latency in this run)"
    return f"bench: charts: {names}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Render a bench result's charts.")
    p.add_argument("result", type=Path, help="a bench/results/<stamp>.json")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(argv)
    print(charts_or_reason(json.loads(args.result.read_text()), args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
