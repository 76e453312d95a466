"""The synchronous client: one thread drives every stream; calls block until they can proceed."""

from __future__ import annotations

import json
import time
from typing import Any, Iterator, List, Optional, Sequence, Tuple, Union

import zmq

from ._config import (Curve, ShardSpec, control_answer, control_endpoint, load_curve,
                      normalize_shards)
from ._core import Core, StreamState
from ._types import End, Evicted, Item, Partial, Tag, Timeout, raise_for


class Client:
    """A connection to one streamtag daemon, or to several (``shards``).

    ``input``/``output``/``control`` are the daemon's endpoints (defaults: the daemon's, on
    loopback; without ``control`` the control calls are unavailable). ``shards`` is a list of
    ``(input, output[, control])`` instead, one per daemon: each stream id goes to one shard by
    rendezvous hashing. ``curve`` is a :class:`Curve` (or a ``(client_key_secret_file,
    server_public_key_file)`` pair) for a daemon that requires CURVE.

    ``prefix``: subscribe once to every stream id starting with it, so that new streams under it
    need not wait for a heartbeat before their first message. ``window``: messages per stream
    sent and not yet answered (``send`` blocks beyond it). ``heartbeat_timeout``: silence after
    which a daemon is taken as gone (its unanswered messages are resent when it is back).

    Not thread-safe: use it from one thread (or use :class:`~streamtag_client.AsyncClient`).
    """

    def __init__(self, input: Optional[str] = None, output: Optional[str] = None,
                 control: Optional[str] = None, *, shards: Optional[Sequence[ShardSpec]] = None,
                 curve: Union[Curve, Tuple[str, str], None] = None, prefix: Optional[str] = None,
                 window: int = 8, heartbeat_timeout: float = 5.0, control_timeout: float = 10.0,
                 context: Optional[zmq.Context] = None) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        self.shards = normalize_shards(input, output, control, shards)
        self.window = window
        self.control_timeout = control_timeout
        self._curve = load_curve(curve)
        self._context = context or zmq.Context.instance()
        self._inputs: List[zmq.Socket] = []
        self._outputs: List[zmq.Socket] = []
        self._poller = zmq.Poller()
        self._socket_shard = {}
        for index, shard in enumerate(self.shards):
            # An XPUB reports the daemon's subscription: proof that the input connection is up.
            pub = self._socket(zmq.XPUB)
            pub.setsockopt(zmq.SNDHWM, 0)
            pub.connect(shard.input)
            sub = self._socket(zmq.SUB)
            sub.setsockopt(zmq.RCVHWM, 0)
            sub.connect(shard.output)
            self._inputs.append(pub)
            self._outputs.append(sub)
            self._poller.register(pub, zmq.POLLIN)
            self._poller.register(sub, zmq.POLLIN)
            self._socket_shard[pub] = (index, True)
            self._socket_shard[sub] = (index, False)
        self._core = Core([s.input for s in self.shards], publish=self._publish,
                          subscribe=self._subscribe, clock=time.monotonic, prefix=prefix,
                          heartbeat_timeout=heartbeat_timeout)
        self._streams: dict = {}
        self._closed = False
        self._last_poll = 0.0

    def _socket(self, kind: int) -> zmq.Socket:
        socket = self._context.socket(kind)
        socket.setsockopt(zmq.LINGER, 1000)
        if self._curve:
            self._curve.apply(socket)
        return socket

    def _publish(self, shard: int, topic: bytes, body: bytes) -> None:
        self._inputs[shard].send_multipart((topic, body))

    def _subscribe(self, shard: int, topic: bytes, on: bool) -> None:
        self._outputs[shard].setsockopt(zmq.SUBSCRIBE if on else zmq.UNSUBSCRIBE, topic)

    # -- streams ---------------------------------------------------------------------------

    def stream(self, stream_id: str, *, partial: bool = False) -> "Stream":
        """The stream ``stream_id`` (the same object while it is open). With ``partial`` its
        items include :class:`Partial` values (provisional tags)."""
        stream = self._streams.get(stream_id)
        if stream is None:
            stream = Stream(self, self._core.open(stream_id, partial))
            self._streams[stream_id] = stream
        return stream

    def shard_of(self, stream_id: str) -> int:
        """The index in ``shards`` of the daemon that serves ``stream_id``."""
        from ._core import rendezvous_shard
        return rendezvous_shard(stream_id, [s.input for s in self.shards])

    def wait_ready(self, timeout: Optional[float] = 10.0) -> None:
        """Blocks until every shard is joined (heartbeat seen, input connected)."""
        self._wait(lambda: all(s.up for s in self._core.shards), timeout, "daemons to be ready")

    @property
    def system_events(self):
        """The last daemon-wide events (``$sys``: started, stopping, model_loaded, …)."""
        return self._core.system_events

    @property
    def stats(self):
        """Counters: ``published``, ``resent``, ``overloaded``, ``ignored``, ``restarts``."""
        return self._core.stats

    # -- pumping ---------------------------------------------------------------------------

    def poll(self, timeout: float = 0.0) -> None:
        """Receives what the daemons sent, waiting up to ``timeout`` seconds for something,
        and publishes what is due. Blocking calls do this by themselves."""
        now = self._last_poll = time.monotonic()
        limit = min(now + timeout, self._core.next_deadline(now))
        ms = max(0, int((limit - now) * 1000 + 0.999))
        ready = self._poller.poll(ms)
        core = self._core
        for socket, _ in ready:
            index, is_input = self._socket_shard[socket]
            while True:
                try:
                    frames = socket.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                if is_input:
                    core.on_input_subscription(index, frames[0])
                elif len(frames) == 2:
                    core.on_output(index, frames[0], frames[1])
        core.tick(time.monotonic())

    def _wait(self, done, timeout: Optional[float], what: str) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not done():
            if self._closed:
                raise ValueError("the client is closed")
            remaining = 1.0 if deadline is None else deadline - time.monotonic()
            if remaining <= 0:
                raise Timeout(f"timed out after {timeout} s waiting for {what}")
            self.poll(min(remaining, 1.0))

    # -- control ---------------------------------------------------------------------------

    def request(self, command: dict, shard: int = 0) -> dict:
        """Sends one control request to ``shard`` and returns its answer; raises
        :class:`ControlError` when the answer has ``ok: false`` or none comes in time."""
        endpoint = control_endpoint(self.shards[shard], shard)
        socket = self._socket(zmq.REQ)
        socket.setsockopt(zmq.LINGER, 0)
        try:
            socket.connect(endpoint)
            socket.send(json.dumps(command).encode())
            if not socket.poll(int(self.control_timeout * 1000)):
                from ._types import ControlError
                raise ControlError(f"no answer from {endpoint} within {self.control_timeout} s")
            return control_answer(socket.recv())
        finally:
            socket.close()

    def _each(self, command: dict, shard: Optional[int]) -> Any:
        if shard is not None or len(self.shards) == 1:
            return self.request(command, shard or 0)
        return [self.request(command, i) for i in range(len(self.shards))]

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

    def drop(self, stream_id: str) -> dict:
        """Drops a stream at the daemon that serves it (its queued input is discarded)."""
        return self.request({"cmd": "drop", "stream": stream_id}, self.shard_of(stream_id))

    # -- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        """Closes the sockets; unanswered messages are abandoned."""
        if self._closed:
            return
        self._closed = True
        for socket in self._inputs + self._outputs:
            socket.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Stream:
    """One token stream. Get it from :meth:`Client.stream`."""

    def __init__(self, client: Client, state: StreamState) -> None:
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

    def send(self, tokens: Sequence[str], *, end: bool = False, reset: bool = False,
             timeout: Optional[float] = None) -> int:
        """Sends the next message of the stream and returns its seq. Blocks while ``window``
        messages are unanswered; messages wait (queued) until the stream has joined."""
        state, client = self._state, self._client
        if len(state.pending) >= client.window:
            client._wait(lambda: len(state.pending) < client.window, timeout, f"room in {state.id!r}'s window")
        elif time.monotonic() - client._last_poll > 0.001:
            client.poll(0)      # keep up with answers and heartbeats, at most once a millisecond
        return client._core.enqueue(state, tokens, reset, end)

    def end(self, tokens: Sequence[str] = (), *, timeout: Optional[float] = None) -> int:
        """Sends the stream's last message (``end: true``), with ``tokens`` if given."""
        return self.send(tokens, end=True, timeout=timeout)

    def take(self, timeout: float = 0.0) -> List[Item]:
        """Every item received so far: tags, partial tags if asked for, and events, as typed
        values; never raises. With ``timeout`` > 0 and nothing received yet, receives for up
        to that long; with 0 it only hands over what :meth:`Client.poll` (or any blocking
        call) already received, so a loop over many streams polls once, then takes from each."""
        state, client = self._state, self._client
        if not state.items and timeout > 0:
            try:
                client._wait(lambda: bool(state.items), timeout, "")
            except Timeout:
                pass
        return client._core.take(state)

    def items(self, timeout: Optional[float] = None) -> Iterator[Item]:
        """Yields every item (tags, partial tags if asked for, events as values) until the
        stream's :class:`End` or :class:`Evicted` (both yielded). ``timeout`` bounds the wait
        for each item."""
        state, client = self._state, self._client
        while True:
            if not state.items:
                client._wait(lambda: bool(state.items), timeout, f"stream {state.id!r}")
            item = state.items.popleft()
            yield item
            if type(item) is End or type(item) is Evicted:
                return

    def tags(self, timeout: Optional[float] = None) -> Iterator[Tag]:
        """Yields the final tags until the stream ends. Raises a :class:`StreamError`
        subclass for an event that means tokens went untagged (gap, lost answer, eviction,
        refusal); other events are skipped."""
        for item in self.items(timeout):
            kind = type(item)
            if kind is Tag:
                yield item  # type: ignore[misc]
            elif kind is End:
                return
            elif kind is not Partial:
                raise_for(self._state.id, item)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[Tag]:
        return self.tags()

    def collect(self, timeout: Optional[float] = None) -> List[Tag]:
        """Waits until every message sent so far has its outcome (and the ``End`` of an ended
        stream), then returns the final tags received and not yet consumed. Raises like
        :meth:`tags`."""
        state, client = self._state, self._client
        client._wait(lambda: not state.pending and not state.ended, timeout, f"answers on {state.id!r}")
        out: List[Tag] = []
        for item in client._core.take(state):
            kind = type(item)
            if kind is Tag:
                out.append(item)  # type: ignore[arg-type]
            elif kind is not Partial and kind is not End:
                raise_for(state.id, item)  # type: ignore[arg-type]
        return out

    def close(self) -> None:
        """Unsubscribes and forgets the stream (the daemon keeps it until it ends or idles)."""
        self._client._core.close(self._state)
        self._client._streams.pop(self._state.id, None)

    def __repr__(self) -> str:
        return f"<Stream {self.id!r} shard={self.shard} pending={self.pending}>"
