"""bench/charts.py on a small fixture: the two SVG charts and what they are drawn from."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bench import charts


def _stats(median: float, low: float, high: float) -> dict[str, float]:
    return {"median": median, "min": low, "max": high, "n": 3}


def _fixture() -> dict[str, Any]:
    def server(rps: float, p50: float) -> dict[str, Any]:
        metrics = {
            "rps": _stats(rps, rps * 0.9, rps * 1.1),
            "p50_us": _stats(p50, p50 * 0.9, p50 * 1.2),
            "p90_us": _stats(p50 * 1.5, p50 * 1.4, p50 * 1.7),
            "p99_us": _stats(p50 * 3, p50 * 2.5, p50 * 4),
            "max_us": _stats(p50 * 9, p50 * 8, p50 * 12),
        }
        return {"statuses": ["ok"], "metrics": metrics, "notes": []}

    return {
        "servers_order": ["pagi-1w", "uvicorn-httptools", "hypercorn"],
        "workloads": {
            "1": {"name": "keepalive-hello", "title": "Hello, 64 connections",
                  "headline": "rps", "higher_is_better": True},
            "5": {"name": "sequential-latency", "title": "Sequential requests",
                  "headline": "p50_us", "higher_is_better": False},
            "8a": {"name": "idle-http", "title": "Idle memory",
                   "headline": "rss_kib", "higher_is_better": False},
        },
        "summary": {
            "1": {"pagi-1w": server(30000, 1600), "uvicorn-httptools": server(40000, 1500),
                  "hypercorn": server(5000, 11000)},
            "5": {"pagi-1w": server(4000, 240), "uvicorn-httptools": server(8000, 120),
                  "hypercorn": {"statuses": ["error"], "metrics": {}, "notes": []}},
        },
    }  # fmt: skip


def test_advantage_is_above_1_when_pagi_is_better() -> None:
    adv = charts.advantages(_fixture())
    assert adv["1"] == {"uvicorn-httptools": 0.75, "hypercorn": 6.0}  # rates: pagi / peer
    assert adv["5"] == {"uvicorn-httptools": 0.5}  # latency: peer / pagi; failed run left out
    assert "8a" not in adv  # no data


def test_charts_are_svg_with_their_labels(tmp_path: Path) -> None:
    made = charts.render_charts(_fixture(), tmp_path)
    assert [p.name for p in made] == ["ratios.svg", "latency.svg"]
    ratios = (tmp_path / "ratios.svg").read_text()
    latency = (tmp_path / "latency.svg").read_text()
    assert ratios.startswith("<?xml") and "<svg" in ratios
    for text in ("uvicorn-httptools", "hypercorn", "keepalive-hello", "sequential-latency"):
        assert text in ratios, text
    assert "pagi-1w advantage (above 1: pagi-1w better)" in ratios
    for text in ("1 · Hello, 64 connections", "5 · Sequential requests", "p50", "p99", "max"):
        assert text in latency, text
    assert "<dc:date>" not in latency  # no timestamp: the same results give the same file


def test_same_results_same_bytes(tmp_path: Path) -> None:
    charts.render_charts(_fixture(), tmp_path / "a")
    charts.render_charts(_fixture(), tmp_path / "b")
    for name in ("ratios.svg", "latency.svg"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_a_run_without_peers_has_no_ratio_chart(tmp_path: Path) -> None:
    result = _fixture()
    result["servers_order"] = ["pagi-1w"]
    assert [p.name for p in charts.render_charts(result, tmp_path)] == ["latency.svg"]


def test_the_committed_charts_come_from_the_committed_results(tmp_path: Path) -> None:
    """docs/charts/*.svg say what the renderer makes of the results beside them.

    (The words are compared, not the bytes: another matplotlib may draw the
    same chart with other path data.)
    """
    docs = charts.REPO / "docs" / "charts"
    [source] = docs.glob("results-*.json")
    assert charts.main([str(source), "--out", str(tmp_path)]) == 0
    for name in ("ratios.svg", "latency.svg"):
        fresh, committed = ((d / name).read_text() for d in (tmp_path, docs))
        assert _texts(fresh) == _texts(committed), name
        assert len(_texts(fresh)) > 20


def _texts(svg: str) -> list[str]:
    return re.findall(r"<text\b[^>]*>([^<]*)</text>", svg)
