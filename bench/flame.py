"""Collapsed stacks (py-spy ``--format raw``) → a flame graph SVG and a top table.

Input lines are ``outer;...;inner COUNT``: one stack, root first, and how many
samples ended in it. One py-spy recording gives both outputs, so the picture
and the table always describe the same samples.
"""

from __future__ import annotations

import hashlib
import html
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROW = 17  # pixels per stack level
WIDTH = 1200
CHAR = 6.6  # approximate width of one character at font-size 11


def parse(text: str) -> list[tuple[list[str], int]]:
    """``[(frames root first, samples)]``; blank or malformed lines are skipped."""
    stacks = []
    for line in text.splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        stacks.append((stack.split(";"), int(count)))
    return stacks


@dataclass
class Node:
    name: str
    samples: int = 0
    children: dict[str, Node] = field(default_factory=dict)


def build_tree(stacks: list[tuple[list[str], int]]) -> Node:
    root = Node("all")
    for frames, count in stacks:
        node = root
        node.samples += count
        for frame in frames:
            node = node.children.setdefault(frame, Node(frame))
            node.samples += count
    return root


def top_functions(stacks: list[tuple[list[str], int]], limit: int = 25) -> list[dict[str, object]]:
    """Frames ranked by self samples (the stack's innermost frame), with inclusive samples.

    A frame that occurs several times in one stack (recursion) counts once
    towards its inclusive total.
    """
    total = sum(count for _, count in stacks) or 1
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, count in stacks:
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    rows: list[dict[str, object]] = []
    for frame, samples in own.most_common(limit):
        rows.append(
            {
                "frame": frame,
                "self_pct": 100.0 * samples / total,
                "total_pct": 100.0 * inclusive[frame] / total,
                "self_samples": samples,
            }
        )
    return rows


def top_markdown(rows: list[dict[str, object]], samples: int) -> str:
    lines = [
        f"{samples} samples. self = samples whose innermost frame is this one; "
        "total = samples with this frame anywhere on the stack.",
        "",
        "| self % | total % | function (file:first line) |",
        "|---:|---:|---|",
    ]
    for row in rows:
        frame = str(row["frame"]).replace("|", "\\|")
        lines.append(f"| {row['self_pct']:.1f} | {row['total_pct']:.1f} | `{frame}` |")
    return "\n".join(lines) + "\n"


def _colour(name: str) -> str:
    digest = hashlib.md5(name.encode(), usedforsecurity=False).digest()
    return f"rgb({205 + digest[0] % 50},{80 + digest[1] % 130},{digest[2] % 55})"


def svg(stacks: list[tuple[list[str], int]], title: str) -> str:
    """A static flame graph (root at the bottom); hover a box for its full name and share."""
    root = build_tree(stacks)
    total = root.samples or 1

    def depth(node: Node) -> int:
        return 1 + max((depth(c) for c in node.children.values()), default=0)

    levels = depth(root)
    height = (levels + 2) * ROW + 10
    scale = WIDTH / total
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'font-family="monospace" font-size="11">',
        f'<rect width="{WIDTH}" height="{height}" fill="#fdfdf8"/>',
        f'<text x="6" y="14" font-size="13">{html.escape(title)}</text>',
    ]

    def draw(node: Node, x: float, level: int) -> None:
        w = node.samples * scale
        if w < 0.3:
            return
        y = height - (level + 1) * ROW
        share = 100.0 * node.samples / total
        label = html.escape(f"{node.name} ({node.samples} samples, {share:.1f}%)")
        out.append(
            f'<g><title>{label}</title><rect x="{x:.2f}" y="{y}" width="{w:.2f}" '
            f'height="{ROW - 1}" fill="{_colour(node.name)}" rx="2"/>'
        )
        fits = int((w - 6) / CHAR)
        if fits >= 3:
            text = node.name if len(node.name) <= fits else node.name[: fits - 2] + ".."
            out.append(f'<text x="{x + 3:.2f}" y="{y + ROW - 5}">{html.escape(text)}</text>')
        out.append("</g>")
        child_x = x
        for child in sorted(node.children.values(), key=lambda c: c.name):
            draw(child, child_x, level + 1)
            child_x += child.samples * scale

    draw(root, 0.0, 0)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def render(raw_path: Path, svg_path: Path, title: str) -> tuple[str, int]:
    """Write the SVG next to the raw file; returns (top table Markdown, samples)."""
    stacks = parse(raw_path.read_text(errors="replace"))
    svg_path.write_text(svg(stacks, title))
    samples = sum(count for _, count in stacks)
    return top_markdown(top_functions(stacks), samples), samples
