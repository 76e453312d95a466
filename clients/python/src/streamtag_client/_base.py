"""What the synchronous and the asyncio client share: their sockets, the :class:`Core` they feed,
the stream objects and the control commands. Each subclass only does its own I/O: how it waits
for the sockets, how a control request travels and how a caller waits for a condition."""

from __future__ import annotations

import json
import struct
import time
from typing import Any, Dict, Generic, Iterator, List, Optional, Sequence, Tuple, TypeVar, Union

import zmq

from ._config import Curve, ShardSpec, control_endpoint, load_curve, normalize_shards
from ._core import Core, Stats, StreamState, rendezvous_shard
from ._types import ControlError, Item, Partial, Tag, raise_for

S = TypeVar("S", bound="StreamBase")

# The kinds of socket a client polls, in the order one poll's results are read.
_MONITOR, _INPUT, _OUTPUT = 0, 1, 2


class ClientBase(Generic[S]):
    """Sockets, core and streams of a client; see :class:`~streamtag_client.Client`."""

    #: Set by each subclass: its context, poller and stream classes.
    _context_class: Any = zmq.Context
    _poller_class: Any = zmq.Poller
    _stream_class: Any = None

    def __init__(self, input: Optional[str], output: Optional[str], control: Optional[str], *,
                 shards: Optional[Sequence[ShardSpec]], curve: Union[Curve, Tuple[str, str], None],
                 prefix: Optional[str], window: int, heartbeat_timeout: float, control_timeout: float,
                 context: Optional[zmq.Context]) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        self.shards = normalize_shards(input, output, control, shards)
        self.window = window
        self.control_timeout = control_timeout
        self._curve = load_curve(curve)
        self._context = context or self._context_class.instance()
        self._poller = self._poller_class()
        #: The sockets this client owns: polled, and closed by ``close``.
        self._sockets: List[zmq.Socket] = []
        #: Socket → (its synchronous view, shard index, its kind: _MONITOR, _INPUT or _OUTPUT).
        #: The views send and receive without blocking (for the asyncio client: shadows).
        self._receivers: Dict[Any, Tuple[zmq.Socket, int, int]] = {}
        self._pubs: List[zmq.Socket] = []
        self._subs: List[zmq.Socket] = []
        for index, shard in enumerate(self.shards):
            # An XPUB reports the daemon's subscription: proof that the input connection is up.
            # IMMEDIATE: else it keeps its pipe when the connection drops, so it reports no
            # unsubscription, and it queues what is published meanwhile for the next daemon,
            # which then runs it before our output subscriptions reach it (the answers lost).
            # VERBOSER: one report per connection, so a quick restart's new subscription is
            # counted even while the old connection's is still being torn down.
            pub = self._socket(zmq.XPUB)
            pub.setsockopt(zmq.SNDHWM, 0)
            pub.setsockopt(zmq.IMMEDIATE, 1)
            pub.setsockopt(zmq.XPUB_VERBOSER, 1)
            # The XPUB's unsubscription comes only once this thread has torn the connection
            # down, after a few calls into libzmq; the monitor says at once that it dropped.
            monitor = pub.get_monitor_socket(zmq.EVENT_DISCONNECTED)
            monitor.setsockopt(zmq.LINGER, 0)
            pub.connect(shard.input)
            sub = self._socket(zmq.SUB)
            sub.setsockopt(zmq.RCVHWM, 0)
            sub.connect(shard.output)
            for socket, kind, views in ((monitor, _MONITOR, None), (pub, _INPUT, self._pubs),
                                        (sub, _OUTPUT, self._subs)):
                view = self._sync_view(socket)
                self._poller.register(socket, zmq.POLLIN)
                self._sockets.append(socket)
                self._receivers[socket] = (view, index, kind)
                if views is not None:
                    views.append(view)
        self._core = Core([s.input for s in self.shards], publish=self._publish,
                          subscribe=self._subscribe, clock=time.monotonic, prefix=prefix,
                          heartbeat_timeout=heartbeat_timeout)
        self._streams: Dict[str, S] = {}
        self._closed = False

    def _sync_view(self, socket: zmq.Socket) -> zmq.Socket:
        """A synchronous socket on ``socket``'s ZeroMQ socket (the socket itself by default)."""
        return socket

    def _socket(self, kind: int) -> Any:
        socket = self._context.socket(kind)
        socket.setsockopt(zmq.LINGER, 1000)
        if self._curve:
            self._curve.apply(socket)
        return socket

    def _publish(self, shard: int, topic: bytes, body: bytes) -> None:
        self._pubs[shard].send_multipart((topic, body))

    def _subscribe(self, shard: int, topic: bytes, on: bool) -> None:
        self._subs[shard].setsockopt(zmq.SUBSCRIBE if on else zmq.UNSUBSCRIBE, topic)

    def _receive(self, ready: Sequence[Tuple[Any, int]]) -> None:
        """Feeds the core everything waiting on the ``ready`` sockets (a poll's result), then
        its timers."""
        core = self._core
        # Monitors first: a dropped input connection is known before anything else is read.
        for socket, _ in sorted(ready, key=lambda entry: self._receivers[entry[0]][2]):
            view, index, kind = self._receivers[socket]
            for frames in self._drain(view):
                if kind == _OUTPUT:
                    if len(frames) == 2:
                        core.on_output(index, frames[0], frames[1])
                elif kind == _INPUT:
                    core.on_input_subscription(index, frames[0])
                elif struct.unpack_from("=H", frames[0])[0] == zmq.EVENT_DISCONNECTED:
                    # What the output already holds came from the daemon that went away (its
                    # last heartbeats, say): read it before the shard goes down, so that only a
                    # heartbeat of what comes back brings it up again.
                    for output in self._drain(self._subs[index]):
                        if len(output) == 2:
                            core.on_output(index, output[0], output[1])
                    core.on_input_disconnected(index)
        core.tick(time.monotonic())

    @staticmethod
    def _drain(view: zmq.Socket) -> Iterator[List[bytes]]:
        """The messages waiting on ``view``, without blocking."""
        while True:
            try:
                yield view.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return

    def _all_up(self) -> bool:
        return all(s.up for s in self._core.shards)

    # -- streams ---------------------------------------------------------------------------

    def stream(self, stream_id: str, *, partial: bool = False) -> S:
        """The stream ``stream_id`` (the same object while it is open). With ``partial`` its
        items include :class:`Partial` values (provisional tags)."""
        stream = self._streams.get(stream_id)
        if stream is None:
            stream = self._stream_class(self, self._core.open(stream_id, partial))
            self._streams[stream_id] = stream
        return stream

    def shard_of(self, stream_id: str) -> int:
        """The index in ``shards`` of the daemon that serves ``stream_id``."""
        return rendezvous_shard(stream_id, self._core.keys)

    @property
    def system_events(self):
        """The last daemon-wide events (``$sys``: started, stopping, model_loaded, …)."""
        return self._core.system_events

    @property
    def stats(self) -> Stats:
        """Counters: ``published``, ``resent``, ``overloaded``, ``ignored``, ``restarts``."""
        return self._core.stats

    # -- control: each call returns what ``_each`` (``request``) returns, for the asyncio
    # -- client an awaitable ---------------------------------------------------------------

    def _control_socket(self, shard: int) -> Tuple[Any, str]:
        """A REQ socket connected to ``shard``'s control endpoint, and that endpoint."""
        endpoint = control_endpoint(self.shards[shard], shard)
        socket = self._socket(zmq.REQ)
        socket.setsockopt(zmq.LINGER, 0)
        try:
            socket.connect(endpoint)
        except BaseException:
            socket.close()
            raise
        return socket, endpoint

    def _no_answer(self, endpoint: str) -> ControlError:
        return ControlError(f"no answer from {endpoint} within {self.control_timeout} s")

    @staticmethod
    def _encode(command: dict) -> bytes:
        return json.dumps(command).encode()

    def _each(self, command: dict, shard: Optional[int]) -> Any:
        raise NotImplementedError

    def request(self, command: dict, shard: int = 0) -> Any:
        raise NotImplementedError

    def status(self, shard: Optional[int] = None) -> Any:
        """The daemon's ``status`` answer (a list of them with several shards)."""
        return self._each({"cmd": "status"}, shard)

    def reload(self, shard: Optional[int] = None) -> Any:
        """Asks the daemon(s) to reload the model file."""
        return self._each({"cmd": "reload"}, shard)

    def snapshot(self, shard: Optional[int] = None) -> Any:
        """Asks the daemon(s) to write a snapshot now."""
        return self._each({"cmd": "snapshot"}, shard)

    def streams(self, limit: Optional[int] = None, shard: Optional[int] = None) -> Any:
        """The daemon's open streams (``count`` and ``streams``)."""
        command: dict = {"cmd": "streams"}
        if limit is not None:
            command["limit"] = limit
        return self._each(command, shard)

    def drop(self, stream_id: str) -> Any:
        """Drops a stream at the daemon that serves it (its queued input is discarded)."""
        return self.request({"cmd": "drop", "stream": stream_id}, self.shard_of(stream_id))


class StreamBase:
    """What a stream object of either client has: its state and the conditions its callers
    wait for."""

    def __init__(self, client: ClientBase, state: StreamState) -> None:
        self._client = client
        self._state = state

    @property
    def id(self) -> str:
        return self._state.id

    @property
    def shard(self) -> int:
        """Index of the daemon that serves this stream."""
        return self._state.shard

    @property
    def pending(self) -> int:
        """Messages sent (or waiting to be) whose outcome has not arrived."""
        return len(self._state.pending)

    def _has_room(self) -> bool:
        return len(self._state.pending) < self._client.window

    def _has_items(self) -> bool:
        return bool(self._state.items)

    def _settled(self) -> bool:
        """Every message sent has its outcome, and an ended stream its ``End``."""
        return not self._state.pending and not self._state.ended

    def _is_tag(self, item: Item) -> bool:
        """True for a final tag; raises a :class:`StreamError` for an event that means tokens
        went untagged; False for the rest (partial tags, ``End`` and the harmless events)."""
        kind = type(item)
        if kind is Tag:
            return True
        if kind is not Partial:
            raise_for(self._state.id, item)  # type: ignore[arg-type]
        return False

    def _final_tags(self) -> List[Tag]:
        """The final tags received and not yet consumed; raises like :meth:`_is_tag`."""
        return [item for item in Core.take(self._state) if self._is_tag(item)]  # type: ignore[misc]

    def close(self) -> None:
        """Unsubscribes and forgets the stream (the daemon keeps it until it ends or idles)."""
        self._client._core.close(self._state)
        self._client._streams.pop(self._state.id, None)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id!r} shard={self.shard} pending={self.pending}>"
