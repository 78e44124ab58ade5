"""Fuzzing pagi's parsers and codecs: ``python -m bench.fuzz`` (see __main__.py)."""
