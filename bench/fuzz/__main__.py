"""Fuzz pagi's parsers and codecs: ``python -m bench.fuzz TARGET [options]``.

Targets (``bench/fuzz/targets.py``): ``link``, ``http1``, ``ws``, ``deflate``,
``h2``, or ``all`` (each in turn, sharing ``--seconds``).

Engines: ``atheris`` (coverage-guided libFuzzer, ``pip install
'pagi-server[fuzz]'``) when it is importable, else ``hypothesis`` (random and
shrinking, no coverage feedback); ``--engine`` picks one. Inputs start from
the seed corpus ``tests/fuzz_regressions/TARGET/`` (every crasher and
divergence ever found, replayed by the test suite). A failing input is
written to ``--artifacts`` (``crash-*`` by libFuzzer, ``hypothesis-*`` here)
and the exit status is 1; copy it into the regression corpus once fixed.

    python -m bench.fuzz all --seconds 60            # a quick look (CI runs this)
    python -m bench.fuzz http1 --seconds 3600 -j 2   # a longer run of one target
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "fuzz_regressions"
#: The targets of bench/fuzz/targets.py (named here so the parent need not import them).
NAMES = ("link", "http1", "ws", "deflate", "h2")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fuzz", description=__doc__.split("\n")[0]
    )
    parser.add_argument("target", choices=[*NAMES, "all"])
    parser.add_argument("--seconds", type=float, default=60.0, help="time budget (all: shared)")
    parser.add_argument("--engine", choices=["auto", "atheris", "hypothesis"], default="auto")
    parser.add_argument("--artifacts", default=".", help="where failing inputs are written")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="atheris: parallel workers")
    parser.add_argument("--max-len", type=int, default=4096, help="largest input tried")
    args = parser.parse_args(argv)
    engine = args.engine
    if engine == "auto":
        engine = "atheris" if _has_atheris() else "hypothesis"
    targets = list(NAMES) if args.target == "all" else [args.target]
    share = args.seconds / len(targets)
    failed = []
    for name in targets:
        print(f"== {name}: {engine}, {share:g} s", flush=True)
        run = _atheris if engine == "atheris" else _hypothesis
        if not run(name, share, Path(args.artifacts), args):
            failed.append(name)
    if failed:
        print(f"FAILED: {', '.join(failed)} (inputs in {args.artifacts})", flush=True)
        return 1
    print("no crash, no divergence", flush=True)
    return 0


def _has_atheris() -> bool:
    try:
        import atheris  # noqa: F401
    except ImportError:
        return False
    return True


def _atheris(name: str, seconds: float, artifacts: Path, args: argparse.Namespace) -> bool:
    """Run libFuzzer in a child (it exits the process on a crash)."""
    artifacts.mkdir(parents=True, exist_ok=True)
    seeds = CORPUS / name
    with tempfile.TemporaryDirectory(prefix=f"pagi-fuzz-{name}-") as work:
        argv = [
            sys.executable,
            "-m",
            "bench.fuzz.atheris_child",
            name,
            f"-max_total_time={max(1, int(seconds))}",
            f"-max_len={args.max_len}",
            f"-artifact_prefix={artifacts}/",
            "-print_final_stats=1",
            work,
        ]
        if seeds.is_dir():
            argv.append(str(seeds))
        if args.jobs > 1:
            argv += [f"-jobs={args.jobs}", f"-workers={args.jobs}"]
        env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
        return subprocess.run(argv, cwd=REPO, env=env, check=False).returncode == 0


def _hypothesis(name: str, seconds: float, artifacts: Path, args: argparse.Namespace) -> bool:
    """Random inputs (mutations of the seeds and fresh bytes) until the time is up."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from .targets import TARGETS

    target = TARGETS[name]
    seeds = [p.read_bytes() for p in sorted((CORPUS / name).glob("*"))] or [b""]
    for seed in seeds:  # the regressions first
        target(seed)

    def mutate(pair: tuple[bytes, list[tuple[int, bytes]]]) -> bytes:
        data = bytearray(pair[0])
        for pos, piece in pair[1]:
            at = pos % (len(data) + 1)
            data[at : at + len(piece) // 2] = piece
        return bytes(data)

    inputs = st.one_of(
        st.binary(max_size=args.max_len),
        st.tuples(
            st.sampled_from(seeds),
            st.lists(st.tuples(st.integers(0, 1 << 16), st.binary(max_size=8))),
        ).map(mutate),
    )
    failing: list[bytes] = []

    @settings(
        max_examples=500,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(inputs)
    def check(data: bytes) -> None:
        try:
            target(data)
        except BaseException:
            failing.append(data)
            raise

    deadline = time.monotonic() + seconds
    runs = 0
    while time.monotonic() < deadline:
        try:
            check()
        except Exception as exc:
            data = failing[-1] if failing else b""
            artifacts.mkdir(parents=True, exist_ok=True)
            path = artifacts / f"hypothesis-{name}-{hashlib.sha1(data).hexdigest()[:12]}"
            path.write_bytes(data)
            print(f"{name}: {type(exc).__name__}: {exc}\ninput written to {path}", flush=True)
            return False
        runs += 500
    print(f"{name}: {runs} inputs, no failure", flush=True)
    return True


if __name__ == "__main__":
    raise SystemExit(main())
