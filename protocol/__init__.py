"""The worker link: the contract between pagi-front and pagi-worker (sans-I/O).

Nothing here does I/O or imports asyncio: both processes wrap these pieces in a
thin shell of their own. Beside the link, the package holds the few start-up
helpers both command lines share (``version``, ``env_file``, ``log_config``, ``cli_shared``,
``log_colors``, ``closed_argv``); they read files but never touch the link.
"""

from .codec import DEFAULT_MAX_FRAME_SIZE, LinkDecoder, encode, encode_many
from .errors import LinkError
from .kinds import PROTOCOL_VERSION, BodyMode, Event, Kind, Outcome

__all__ = [
    "DEFAULT_MAX_FRAME_SIZE",
    "PROTOCOL_VERSION",
    "BodyMode",
    "Event",
    "Kind",
    "LinkDecoder",
    "LinkError",
    "Outcome",
    "encode",
    "encode_many",
]
