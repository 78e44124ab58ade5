"""``python -m pagi.frontend``: the same as the ``pagi-front`` command."""

from .cli import main

if __name__ == "__main__":
    main()
