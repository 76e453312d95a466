"""Client for the streamtag daemon (protocol ``streamtag-wire/1``, docs/protocol.md).

::

    from streamtag_client import Client
    with Client("tcp://127.0.0.1:5560", "tcp://127.0.0.1:5561") as client:
        stream = client.stream("call-42")
        stream.send(["I", "booked", "a", "flight"]); stream.end(["to", "Boston", "."])
        for tag in stream: print(tag.i, tag.token, tag.tag, tag.p)

:class:`Client` is synchronous, :class:`AsyncClient` its asyncio twin.
"""

from ._config import Curve, Shard
from ._core import rendezvous_shard
from ._types import (ControlError, Discontinuity, DiscontinuityError, Duplicate, DuplicateError, End, Error, Event, Evicted,
                     EvictedError, Gap, GapError, Item, ModelChanged, Partial, RejectedError,
                     Reset, StreamError, StreamTagError, SystemEvent, Tag, Timeout)
from .aio import AsyncClient, AsyncStream
from .client import Client, Stream

PROTOCOL = "streamtag-wire/1"
__version__ = "1.0.0"

__all__ = [
    "AsyncClient", "AsyncStream", "Client", "ControlError", "Curve", "Discontinuity",
    "DiscontinuityError", "Duplicate",
    "DuplicateError", "End", "Error", "Event", "Evicted", "EvictedError", "Gap", "GapError",
    "Item", "ModelChanged", "PROTOCOL", "Partial", "RejectedError", "Reset", "Shard", "Stream",
    "StreamError", "StreamTagError", "SystemEvent", "Tag", "Timeout", "rendezvous_shard",
]
