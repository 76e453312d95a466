"""Values a stream yields (tags, partial tags, events) and the exceptions the client raises."""

from __future__ import annotations

from typing import NamedTuple, Optional, Tuple, Union


class Tag(NamedTuple):
    """One final tag: position ``i`` in the stream, the token echoed, its tag, the
    probability ``p`` and the ``model`` (``NAME@HASH``) that computed it."""

    i: int
    token: str
    tag: str
    p: float
    model: str


class Partial(NamedTuple):
    """Provisional tags for the tokens still in the lookahead window, from the answer to
    message ``seq`` (only when the stream was opened with ``partial=True``)."""

    seq: int
    tags: Tuple[Tag, ...]


class Gap(NamedTuple):
    """The daemon saw ``received`` when it expected ``expected``: messages in between never
    reached it (or a crash lost them); their tokens have no tags."""

    expected: int
    received: int


class Duplicate(NamedTuple):
    """The daemon already had message ``seq`` (its last accepted seq is ``last``) although the
    client never received its answer: that answer was lost on the way."""

    seq: int
    last: int


class Discontinuity(NamedTuple):
    """Final positions jumped from ``expected`` to ``received`` without a reset: the daemon
    lost the stream's state (a crash restored an older snapshot, or none)."""

    expected: int
    received: int


class Reset(NamedTuple):
    """The stream's state was cleared (``reason``: ``request``, ``gap`` or ``model``);
    positions start again at 0."""

    reason: str


class End(NamedTuple):
    """The stream ended after ``tokens`` tokens (since its start or last reset)."""

    tokens: int


class Evicted(NamedTuple):
    """The daemon forgot the stream (``reason``: ``idle``, ``memory`` or ``dropped``);
    messages still unanswered will never be answered."""

    reason: str


class ModelChanged(NamedTuple):
    """The stream moved from model ``from_`` to model ``to`` between two messages."""

    from_: str
    to: str


class Error(NamedTuple):
    """The daemon refused message ``seq`` (``None`` when the seq was unreadable) with ``code``
    (``bad_json``, ``too_large``, …, see docs/protocol.md#errors)."""

    code: str
    message: str
    seq: Optional[int]


class SystemEvent(NamedTuple):
    """A daemon-wide event on ``$sys`` (``started``, ``stopping``, ``model_loaded``,
    ``model_rejected``, or an ``error`` without a usable stream id), from shard ``shard``."""

    shard: int
    event: str
    fields: dict


Event = Union[Gap, Duplicate, Discontinuity, Reset, End, Evicted, ModelChanged, Error]
Item = Union[Tag, Partial, Event]


class StreamTagError(Exception):
    """Base class of every error this package raises."""


class StreamError(StreamTagError):
    """A stream event that means tokens went untagged; ``event`` is the typed value."""

    def __init__(self, stream: str, event: Event) -> None:
        super().__init__(f"stream {stream!r}: {event!r}")
        self.stream = stream
        self.event = event


class GapError(StreamError):
    """Raised for a :class:`Gap` while iterating final tags."""


class DuplicateError(StreamError):
    """Raised for a :class:`Duplicate` (a lost answer) while iterating final tags."""


class DiscontinuityError(StreamError):
    """Raised for a :class:`Discontinuity` while iterating final tags."""


class EvictedError(StreamError):
    """Raised for an :class:`Evicted` while iterating final tags."""


class RejectedError(StreamError):
    """Raised for an :class:`Error` (a refused message) while iterating final tags."""


class ControlError(StreamTagError):
    """A control request failed: the daemon answered ``ok: false`` (``answer`` holds the whole
    answer), or did not answer in time (``answer`` is ``None``)."""

    def __init__(self, message: str, answer: Optional[dict] = None) -> None:
        super().__init__(message)
        self.answer = answer


class Timeout(StreamTagError, TimeoutError):
    """A blocking call did not finish within its ``timeout``."""


def raise_for(stream: str, item: Event) -> None:
    """Raises the exception that matches a problem event; returns for the others."""
    if isinstance(item, Gap):
        raise GapError(stream, item)
    if isinstance(item, Duplicate):
        raise DuplicateError(stream, item)
    if isinstance(item, Evicted):
        raise EvictedError(stream, item)
    if isinstance(item, Discontinuity):
        raise DiscontinuityError(stream, item)
    if isinstance(item, Error):
        raise RejectedError(stream, item)
