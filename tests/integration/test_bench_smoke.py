"""The benchmark harness itself runs (bench/, docs/performance.md) — no figure is judged.

One tiny run of the real harness (pagi with one worker, one-second workloads,
a few dozen held connections) checks that every kind of client works end to
end, that the JSON and Markdown have the documented shape, and that every
process the harness started is gone afterwards. The figures themselves are
never compared with anything: benchmarks are not pass/fail.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[2]
sys.path.append(str(REPO))  # for `bench`; appended so nothing else is shadowed

from bench import flame, report  # noqa: E402
from bench.h2load_client import parse_h2load  # noqa: E402
from bench.workloads import WORKLOADS  # noqa: E402

# Every client kind once: wrk (plain and Lua POST), the WebSocket echo client,
# the held SSE / keep-alive / WebSocket connections, none (cold start), h2load.
SMOKE_WORKLOADS = "1,2,6,7,8a,8b,9,10"
EXPECTED_METRICS = {
    "1": {"rps", "p50_us", "p99_us", "mbps", "socket_errors", "non_2xx", "cpu_us", "cpu_cores"},
    "2": {"rps", "mbps", "p50_us", "p99_us", "cpu_us"},
    "6": {"messages_per_s", "connections", "cpu_us"},
    "7": {"rss_mib", "front_rss_mib", "cpu_pct", "events_per_s", "streams_open"},
    "8a": {"kib_per_conn", "front_kib_per_conn", "pss_kib_per_conn", "open"},
    "8b": {"kib_per_conn", "front_kib_per_conn", "pss_kib_per_conn", "open"},
    "9": {"cold_start_ms", "idle_rss_mib"},
    "10": {"rps", "requests", "failed", "mean_us", "max_us", "cpu_us"},
}


def test_harness_runs_pagi_and_writes_json_and_markdown(tmp_path: Path) -> None:
    argv = [
        sys.executable,
        "-m",
        "bench.run",
        "--servers",
        "pagi-1w",
        "--workloads",
        SMOKE_WORKLOADS,
        "--reps",
        "1",
        "--duration",
        "1",
        "--warmup",
        "0",
        "--idle-conns",
        "40",
        "--sse-streams",
        "40",
        "--settle",
        "0.3",
        "--h2-requests",
        "2000",
        "--results-dir",
        str(tmp_path),
        "--charts-dir",
        str(tmp_path / "charts"),
    ]
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    [json_path] = tmp_path.glob("*.json")
    result = json.loads(json_path.read_text())
    assert result["schema"] == 1
    assert {"nproc", "cpu_model", "ram_gib", "kernel", "python", "loadavg"} <= set(
        result["machine"]
    )
    assert result["versions"]["project_venv"]["pagi"]
    assert result["versions"]["wrk"].startswith("wrk")
    assert result["config"]["reps"] == 1 and result["config"]["duration"] == 1
    assert result["servers_order"] == ["pagi-1w"]
    assert result["wrk_flags"]["1"] == ["-t1", "-c64"]
    assert set(result["workloads"]) == set(EXPECTED_METRICS)

    runs = result["runs"]
    assert [r["workload"] for r in runs] == SMOKE_WORKLOADS.split(",")
    for run in runs:
        assert run["status"] == "ok", run
        assert EXPECTED_METRICS[run["workload"]] <= set(run["metrics"]), run
        assert all(isinstance(v, float) for v in run["metrics"].values()), run
        assert run["cold_start_s"] > 0
        assert run["leftover_pids"] == []
        assert run["argv"][0].endswith("pagi-front")
    by_id = {r["workload"]: r["metrics"] for r in runs}
    # Sanity, not speed: the load really went through the server.
    assert by_id["1"]["requests"] > 0 and by_id["1"]["non_2xx"] == 0
    assert by_id["2"]["mbps"] > 0
    assert by_id["6"]["messages_per_s"] > 0
    assert by_id["7"]["streams_open"] == 40 and by_id["7"]["events_per_s"] > 0
    assert by_id["8a"]["open"] == 40 and by_id["8b"]["open"] == 40
    assert by_id["10"]["requests"] == 2000 and by_id["10"]["failed"] == 0

    summary = result["summary"]
    stats = summary["1"]["pagi-1w"]["metrics"]["rps"]
    assert stats["n"] == 1 and stats["min"] == stats["median"] == stats["max"]
    assert result["ratios"] == {}  # no peer in this run

    # Every process of every server is gone (the front's workers included).
    for run in runs:
        for pid in run["pids"]:
            assert not _alive(pid), f"pid {pid} of {run['server']} survived"

    latest = (tmp_path / "latest.md").read_text()
    assert latest == (tmp_path / f"{json_path.stem}.md").read_text()
    assert "### 1 · HTTP/1.1 keep-alive hello, 64 connections" in latest
    assert "### 8b · Idle memory: 40 idle WebSockets" in latest
    assert "| pagi-1w |" in latest
    assert not list(tmp_path.glob("*-logs")), "logs are removed when no run failed"
    # The charts go with latest.md; without a peer there is no ratio to draw.
    assert [p.name for p in (tmp_path / "charts").iterdir()] == ["latency.svg"]
    assert (
        "1 · HTTP/1.1 keep-alive hello, 64 connections"
        in (tmp_path / "charts" / "latency.svg").read_text()
    )


def test_harness_runs_every_client_over_tls(tmp_path: Path) -> None:
    """``--tls``: wrk, h2load (ALPN h2), the Python clients and the probe all use TLS."""
    argv = [sys.executable, "-m", "bench.run", "--tls", "--servers", "pagi-1w"]
    argv += ["--workloads", "1,6,7,9,10", "--reps", "1", "--duration", "1", "--warmup", "0"]
    argv += ["--sse-streams", "20", "--settle", "0.3", "--h2-requests", "1000"]
    argv += ["--results-dir", str(tmp_path), "--no-latest"]
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    [json_path] = tmp_path.glob("*.json")
    result = json.loads(json_path.read_text())
    assert result["config"]["tls"] is True
    runs = {r["workload"]: r for r in result["runs"]}
    for run in runs.values():
        assert run["status"] == "ok", run
        assert run["leftover_pids"] == []
        assert any(a.startswith("tls://127.0.0.1:") for a in run["argv"]), run["argv"]
    assert runs["1"]["metrics"]["requests"] > 0 and runs["1"]["metrics"]["non_2xx"] == 0
    assert runs["6"]["metrics"]["messages_per_s"] > 0
    assert runs["7"]["metrics"]["streams_open"] == 20
    assert runs["10"]["metrics"]["requests"] == 1000 and runs["10"]["metrics"]["failed"] == 0
    assert "Transport: **TLS**" in (tmp_path / f"{json_path.stem}.md").read_text()


def test_big_download_driver_moves_every_byte_and_reports_rss() -> None:
    argv = [sys.executable, "-m", "bench.big_download", "--mib", "8"]
    proc = subprocess.run(
        [*argv, "--transports", "h2-tls,h1"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert [(r["transport"], r["http_version"]) for r in rows] == [("h2-tls", "2"), ("h1", "1.1")]
    for row in rows:
        assert row["bytes"] == 8 * 1024 * 1024 and row["mb_per_s"] > 0
        assert row["front_rss_before_mib"] > 0 and row["worker_rss_before_mib"] > 0
    assert "| h2-tls | 2 |" in proc.stdout


def _alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def test_report_ratios_and_cells_from_runs() -> None:
    runs = [
        {"workload": "1", "server": s, "rep": i, "status": "ok", "metrics": {"rps": v}}
        for s, values in (("pagi-1w", [90.0, 100.0, 120.0]), ("uvicorn-httptools", [50.0] * 3))
        for i, v in enumerate(values)
    ]
    runs.append(
        {
            "workload": "6",
            "server": "daphne",
            "rep": 0,
            "status": "unsupported",
            "metrics": {},
            "note": "not supported yet: HandshakeRefused",
        }
    )
    summary = report.summarize(runs)
    assert summary["1"]["pagi-1w"]["metrics"]["rps"] == {
        "median": 100.0,
        "min": 90.0,
        "max": 120.0,
        "n": 3,
    }
    assert report.ratios(summary) == {"1": {"pagi-1w": {"uvicorn-httptools": 2.0}}}
    table = "\n".join(
        report.workload_table(WORKLOADS["1"], summary["1"], ["pagi-1w", "uvicorn-httptools"], {})
    )
    assert "| pagi-1w | 100 (90\u2013120) |" in table
    assert "| uvicorn-httptools | 50 (50\u201350) |" in table and "| 2.00 |" in table
    six = "\n".join(
        report.workload_table(
            WORKLOADS["6"], summary["6"], ["daphne"], {"ws_conns": 32, "ws_size": 64}
        )
    )
    assert "| daphne | not supported yet |" in six


def test_flame_graph_and_top_table_from_collapsed_stacks(tmp_path: Path) -> None:
    raw = tmp_path / "stacks.txt"
    raw.write_text(
        "main (a.py:1);serve (b.py:5);parse (c.py:9) 30\n"
        "main (a.py:1);serve (b.py:5) 10\n"
        "main (a.py:1);idle <x> (d.py:2) 60\n"
        "garbage line\n"
    )
    table, samples = flame.render(raw, tmp_path / "f.svg", "title & <test>")
    assert samples == 100
    lines = table.splitlines()
    assert lines[4] == "| 60.0 | 60.0 | `idle <x> (d.py:2)` |"
    assert lines[5] == "| 30.0 | 30.0 | `parse (c.py:9)` |"
    assert lines[6] == "| 10.0 | 40.0 | `serve (b.py:5)` |"
    root = ET.parse(tmp_path / "f.svg").getroot()  # well-formed despite < & in names
    titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert "serve (b.py:5) (40 samples, 40.0%)" in titles
    assert "all (100 samples, 100.0%)" in titles


H2LOAD_OUTPUT = """\
finished in 2.00s, 29710.50 req/s, 1.13MB/s
requests: 59421 total, 59581 started, 59421 done, 59421 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 59421 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 2.27MB (2379048) total, 523.55KB (536117) headers (space savings 90.40%), 754.37KB (77…
                     min         max         mean         sd        +/- sd
time for request:      401us     19.10ms      5.20ms      2.38ms    66.77%
"""


def test_h2load_summary_is_parsed() -> None:
    figures = parse_h2load(H2LOAD_OUTPUT)
    assert figures["rps"] == 29710.5
    assert figures["requests"] == 59421 and figures["failed"] == 0
    assert figures["min_us"] == 401 and figures["max_us"] == 19100 and figures["mean_us"] == 5200
    assert round(figures["mbps"], 3) == round(2379048 / 2.0 / 1e6, 3)
    # runs shorter than a second are reported in ms
    short = parse_h2load(H2LOAD_OUTPUT.replace("finished in 2.00s", "finished in 500.00ms"))
    assert round(short["mbps"], 3) == round(2379048 / 0.5 / 1e6, 3)


def test_a_server_at_an_earlier_revision_imports_that_revisions_code() -> None:
    from bench.servers import at_revision

    server = at_revision("pagi-1w@HEAD")
    assert server.name == "pagi-1w@HEAD" and server.is_pagi
    root = server.import_root
    assert root is not None and (root / "pagi" / "worker" / "link.py").exists()
    shown = subprocess.run(
        [sys.executable, "-c", "import pagi.protocol.codec as c; print(c.__file__)"],
        env={"PYTHONPATH": f"{root}:{REPO}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert shown.startswith(str(root)), shown
    try:
        at_revision("uvicorn@HEAD")
    except SystemExit as exc:
        assert "only pagi-1w@REV, pagi-2w@REV and pagi-1w-log@REV" in str(exc)
    else:
        raise AssertionError("a peer at a revision was accepted")


def test_cpu_cost_mode_reports_every_process_and_leaves_none_behind() -> None:
    before = {p.pid for p in psutil.process_iter()}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.cpu_cost",
            "--servers",
            "pagi-1w",
            "--workload",
            "1",
            "--conns",
            "4",
            "--reps",
            "1",
            "--warmup",
            "0.5",
            "--measure",
            "0.5",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    median = proc.stdout.split("medians of 1")[1]
    line = next(ln for ln in median.splitlines() if ln.startswith("pagi-1w"))
    # the front, its worker and the load generator, each with its CPU per request
    for name in ("front", "worker1", "load"):
        assert f"| {name} " in line
    rate = float(line.split()[1].rstrip("/s").replace(",", ""))
    assert rate > 0
    # Only this checkout's processes count: on a shared machine other checkouts
    # start pagi processes of their own meanwhile (the bench runs with cwd=REPO).
    leftovers = [
        p
        for p in psutil.process_iter(["cmdline", "cwd"])
        if p.pid not in before
        and "pagi" in " ".join(p.info["cmdline"] or [])
        and p.info["cwd"] == str(REPO)
    ]
    assert leftovers == []
