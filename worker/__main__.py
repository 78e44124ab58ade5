"""``python -m pagi.worker``: the same program as ``pagi-worker``."""

from .cli import main

if __name__ == "__main__":
    main()
