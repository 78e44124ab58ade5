"""The benchmark suite: pagi side by side with its peers (see docs/performance.md)."""
