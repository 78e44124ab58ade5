"""Turn the list of runs into statistics, ratios and a Markdown report.

A *run* is one (workload, server, repetition) and carries a status: ``ok``,
``unsupported`` (the server lacks the feature; shown as "not supported yet")
or ``error``. Statistics use only ``ok`` runs: median, min and max of each
metric. Ratios are pagi/peer on each workload's headline metric, taken on the
medians; whether a ratio above 1 is good for pagi depends on the metric and is
said in the table.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from typing import Any

from bench.workload import Column, Workload
from bench.workloads import WORKLOADS

PAGI_SERVERS = ("pagi-1w", "pagi-2w")
DASH = "\u2013"  # en dash between min and max


def summarize(runs: Iterable[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """``summary[workload][server]`` = statuses and ``{metric: {median, min, max, n}}``."""
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for run in runs:
        grouped.setdefault(run["workload"], {}).setdefault(run["server"], []).append(run)
    summary: dict[str, dict[str, dict[str, Any]]] = {}
    for wid, by_server in grouped.items():
        summary[wid] = {}
        for server, server_runs in by_server.items():
            ok = [r for r in server_runs if r["status"] == "ok"]
            metrics: dict[str, dict[str, float]] = {}
            for key in sorted({k for r in ok for k in r["metrics"]}):
                values = [float(r["metrics"][key]) for r in ok if key in r["metrics"]]
                metrics[key] = {
                    "median": statistics.median(values),
                    "min": min(values),
                    "max": max(values),
                    "n": len(values),
                }
            statuses = sorted({r["status"] for r in server_runs})
            notes = sorted({r["note"] for r in server_runs if r.get("note")})
            summary[wid][server] = {"statuses": statuses, "metrics": metrics, "notes": notes}
    return summary


def ratios(summary: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, dict[str, float]]]:
    """``ratios[workload][pagi_server][peer]`` = median(pagi) / median(peer), headline metric."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for wid, by_server in summary.items():
        workload = WORKLOADS.get(wid)
        if workload is None:
            continue
        for pagi in PAGI_SERVERS:
            mine = by_server.get(pagi, {}).get("metrics", {}).get(workload.headline)
            if not mine or not mine["median"]:
                continue
            for peer, data in by_server.items():
                theirs = data["metrics"].get(workload.headline)
                if peer == pagi or not theirs or not theirs["median"]:
                    continue
                ratio = mine["median"] / theirs["median"]
                out.setdefault(wid, {}).setdefault(pagi, {})[peer] = ratio
    return out


# -- formatting ------------------------------------------------------------------


def _scale(unit: str, reference: float) -> tuple[float, str, str]:
    """(divisor, format spec, suffix) for a column's numbers; latencies switch to ms at 10 ms."""
    if unit == "us":
        return (1000.0, ".1f", " ms") if reference >= 10_000 else (1.0, ",.0f", " µs")
    if unit == "ms":
        return 1.0, ",.0f", " ms"
    if unit in ("mib", "kib"):
        return 1.0, ",.1f", ""
    if unit == "pct":
        return 1.0, ".1f", " %"
    if unit == "cpu_us":
        return 1.0, ",.1f", " µs"
    return 1.0, ",.0f", ""  # rate, mbps, count


def fmt(value: float, unit: str) -> str:
    """One number in the unit of its column."""
    divisor, spec, suffix = _scale(unit, value)
    return format(value / divisor, spec) + suffix


def cell(stats: dict[str, float] | None, unit: str, reference: float | None = None) -> str:
    """``median (min to max) unit``, scaled alike; ``reference`` (default: the median)
    picks the scale, so one column can share it."""
    if not stats:
        return "—"
    divisor, spec, suffix = _scale(unit, stats["median"] if reference is None else reference)
    text = format(stats["median"] / divisor, spec)
    if stats["n"] > 1:
        low, high = (format(stats[k] / divisor, spec) for k in ("min", "max"))
        text += f" ({low}{DASH}{high})"
    return text + suffix


def _unit_suffix(column: Column) -> str:
    return {"mib": " (MiB)", "kib": " (KiB)", "mbps": ""}.get(column.unit, "")


def _status_cell(data: dict[str, Any]) -> str | None:
    """The text replacing a row's figures when no repetition succeeded."""
    if data["metrics"]:
        return None
    if "unsupported" in data["statuses"]:
        return "not supported yet"
    return "error (see JSON)"


def workload_table(
    workload: Workload,
    by_server: dict[str, dict[str, Any]],
    servers: list[str],
    config: dict[str, Any],
) -> list[str]:
    """The Markdown section of one workload: title, client command, one row per server."""
    lines = [f"### {workload.id} · {workload.title.format(**config)}", ""]
    pagis = [p for p in PAGI_SERVERS if p in by_server]
    direction = "higher" if workload.higher_is_better else "lower"
    head = ["server", *(c.label + _unit_suffix(c) for c in workload.columns)]
    head += [f"{p} ÷ server" for p in pagis]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
    refs = {  # the largest median of each column sets its scale (µs or ms)
        c.key: max(
            (d["metrics"][c.key]["median"] for d in by_server.values() if c.key in d["metrics"]),
            default=None,
        )
        for c in workload.columns
    }
    for server in servers:
        data = by_server.get(server)
        if data is None:
            continue
        status = _status_cell(data)
        if status is not None:
            row = [server, status, *([""] * (len(workload.columns) - 1))]
        else:
            row = [
                server,
                *(cell(data["metrics"].get(c.key), c.unit, refs[c.key]) for c in workload.columns),
            ]
            if "error" in data["statuses"] or "unsupported" in data["statuses"]:
                row[1] += " ⚠"
        headline = data["metrics"].get(workload.headline)
        for pagi in pagis:
            mine = by_server[pagi]["metrics"].get(workload.headline)
            if pagi == server:
                row.append("—")
            elif headline and mine and headline["median"]:
                row.append(f"{mine['median'] / headline['median']:.2f}")
            else:
                row.append("—")
        lines.append("| " + " | ".join(row) + " |")
    if pagis:
        headline_label = next(
            (c.label for c in workload.columns if c.key == workload.headline), workload.headline
        )
        lines.append("")
        lines.append(
            f"Ratios are pagi's median {headline_label} over the server's; "
            f"{direction} is better for {headline_label}, so a ratio "
            f"{'above' if workload.higher_is_better else 'below'} 1 favours pagi."
        )
    lines.append("")
    return lines


def markdown(result: dict[str, Any]) -> str:
    """The whole report: machine, settings, exact commands, one table per workload."""
    machine = result["machine"]
    config = result["config"]
    servers = result["servers_order"]
    lines = [
        f"## Results of {result['started']}",
        "",
        f"* Machine: {machine['nproc']} CPUs ({machine['cpu_model']}), "
        f"{machine['ram_gib']} GiB RAM, "
        f"kernel {machine['kernel']}, {machine['os']}, Python {machine['python']}; "
        f"load average before/after: {machine['loadavg'][0]:.2f} / "
        f"{result.get('loadavg_after', [0.0])[0]:.2f}.",
        f"* Settings: {config['reps']} repetition(s), {config['duration']} s measured after "
        f"{config['warmup']} s warm-up, servers alternated within each repetition, each started "
        f"fresh for every measurement. Cells: median (min{DASH}max).",
        f"* Load tools: {_wrk_version(result)}; Python clients from "
        "`bench/clients.py` on the project venv.",
        *_transport(config),
        "",
        "Client and server share this machine's cores: the figures are comparable with "
        "each other within one run, not with other machines or other runs.",
        "",
    ]
    for wid, workload in WORKLOADS.items():
        by_server = result["summary"].get(wid)
        if not by_server:
            continue
        lines += workload_table(workload, by_server, servers, config)
    return "\n".join(lines) + "\n"


def _transport(config: dict[str, Any]) -> list[str]:
    if not config.get("tls"):
        return []
    return [
        "* Transport: **TLS** (`--tls`): every server on the same throwaway self-signed "
        "P-256 certificate; HTTP/1.1 clients offer ALPN `http/1.1`, h2load offers `h2` alone."
    ]


def _wrk_version(result: dict[str, Any]) -> str:
    text = str(result["versions"].get("wrk") or "wrk")
    return text.split(" Copyright")[0]
