"""Per-category counts of an Autobahn fuzzingclient report.

``python bench/autobahn/summary.py REPORT_DIR [--agent pagi] [--details]``

Reads ``REPORT_DIR/index.json`` (written by ``wstest -m fuzzingclient``) and
prints, per top-level category (1, 2, ..., 13), how many cases ended OK,
NON-STRICT, INFORMATIONAL, UNIMPLEMENTED and FAILED (the worse of the
``behavior`` and ``behaviorClose`` verdicts), then the total. ``--details``
lists every case that is not OK with its verdicts. Exit status 1 if any case
FAILED or is NON-STRICT.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

# Worst first: a case counts as its worse verdict.
_ORDER = ["FAILED", "NON-STRICT", "WRONG CODE", "UNCLEAN", "UNIMPLEMENTED", "INFORMATIONAL", "OK"]
_SHOWN = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"]


def _verdict(case: dict[str, str]) -> str:
    verdicts = [case.get("behavior", "FAILED"), case.get("behaviorClose", "OK")]
    worst = min(verdicts, key=lambda v: _ORDER.index(v) if v in _ORDER else 0)
    # wstest reports close problems as WRONG CODE / UNCLEAN: count them as failures.
    return "FAILED" if worst in ("WRONG CODE", "UNCLEAN") else worst


def _case_key(case_id: str) -> tuple[int, ...]:
    return tuple(int(part) for part in case_id.split("."))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report_dir", type=Path)
    parser.add_argument("--agent", default=None, help="agent name (default: the only one)")
    parser.add_argument("--details", action="store_true", help="list every case that is not OK")
    args = parser.parse_args()

    index = json.loads((args.report_dir / "index.json").read_text())
    agent = args.agent or next(iter(index))
    cases: dict[str, dict[str, str]] = index[agent]

    per_category: dict[int, Counter[str]] = defaultdict(Counter)
    not_ok: list[tuple[str, str, dict[str, str]]] = []
    for case_id, case in cases.items():
        verdict = _verdict(case)
        per_category[_case_key(case_id)[0]][verdict] += 1
        if verdict != "OK":
            not_ok.append((case_id, verdict, case))

    print(f"agent {agent}: {len(cases)} cases")
    header = "category " + "".join(f"{name:>15}" for name in _SHOWN)
    print(header)
    total: Counter[str] = Counter()
    for category in sorted(per_category):
        counts = per_category[category]
        total.update(counts)
        print(f"{category:>8} " + "".join(f"{counts.get(name, 0):>15}" for name in _SHOWN))
    print(f"{'total':>8} " + "".join(f"{total.get(name, 0):>15}" for name in _SHOWN))

    if args.details and not_ok:
        print()
        for case_id, verdict, case in sorted(not_ok, key=lambda item: _case_key(item[0])):
            print(
                f"{case_id:>10} {verdict:<14} behavior={case.get('behavior')} "
                f"close={case.get('behaviorClose')} ({case.get('reportfile')})"
            )
    return 1 if total.get("FAILED") or total.get("NON-STRICT") else 0


if __name__ == "__main__":
    sys.exit(main())
