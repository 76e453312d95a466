"""The synchronous client: one thread drives every stream; calls block until they can proceed."""

from __future__ import annotations

import time
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple, Union

import zmq

from ._base import ClientBase, StreamBase
from ._config import Curve, ShardSpec, control_answer
from ._core import Core
from ._types import End, Evicted, Item, Tag, Timeout


class Stream(StreamBase):
    """One token stream. Get it from :meth:`Client.stream`."""

    _client: "Client"

    def send(self, tokens: Sequence[str], *, end: bool = False, reset: bool = False,
             timeout: Optional[float] = None) -> int:
        """Sends the next message of the stream and returns its seq. Blocks while ``window``
        messages are unanswered; messages wait (queued) until the stream has joined."""
        client = self._client
        if not self._has_room():
            client._wait(self._has_room, timeout, f"room in {self.id!r}'s window")
        elif time.monotonic() - client._last_poll > 0.001:
            client.poll(0)      # keep up with answers and heartbeats, at most once a millisecond
        return client._core.enqueue(self._state, tokens, reset, end)

    def end(self, tokens: Sequence[str] = (), *, timeout: Optional[float] = None) -> int:
        """Sends the stream's last message (``end: true``), with ``tokens`` if given."""
        return self.send(tokens, end=True, timeout=timeout)

    def take(self, timeout: float = 0.0) -> List[Item]:
        """Every item received so far: tags, partial tags if asked for, and events, as typed
        values; never raises. With ``timeout`` > 0 and nothing received yet, receives for up
        to that long; with 0 it only hands over what :meth:`Client.poll` (or any blocking
        call) already received, so a loop over many streams polls once, then takes from each."""
        if not self._has_items() and timeout > 0:
            try:
                self._client._wait(self._has_items, timeout, "")
            except Timeout:
                pass
        return Core.take(self._state)

    def items(self, timeout: Optional[float] = None) -> Iterator[Item]:
        """Yields every item (tags, partial tags if asked for, events as values) until the
        stream's :class:`End` or :class:`Evicted` (both yielded). ``timeout`` bounds the wait
        for each item."""
        items = self._state.items
        while True:
            if not items:
                self._client._wait(self._has_items, timeout, f"stream {self.id!r}")
            item = items.popleft()
            yield item
            if type(item) is End or type(item) is Evicted:
                return

    def tags(self, timeout: Optional[float] = None) -> Iterator[Tag]:
        """Yields the final tags until the stream ends. Raises a :class:`StreamError`
        subclass for an event that means tokens went untagged (gap, lost answer, eviction,
        refusal); other events are skipped."""
        for item in self.items(timeout):
            if self._is_tag(item):
                yield item  # type: ignore[misc]
            elif type(item) is End:
                return

    def __iter__(self) -> Iterator[Tag]:
        return self.tags()

    def collect(self, timeout: Optional[float] = None) -> List[Tag]:
        """Waits until every message sent so far has its outcome (and the ``End`` of an ended
        stream), then returns the final tags received and not yet consumed. Raises like
        :meth:`tags`."""
        self._client._wait(self._settled, timeout, f"answers on {self.id!r}")
        return self._final_tags()


class Client(ClientBase[Stream]):
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

    _stream_class = Stream

    def __init__(self, input: Optional[str] = None, output: Optional[str] = None,
                 control: Optional[str] = None, *, shards: Optional[Sequence[ShardSpec]] = None,
                 curve: Union[Curve, Tuple[str, str], None] = None, prefix: Optional[str] = None,
                 window: int = 8, heartbeat_timeout: float = 5.0, control_timeout: float = 10.0,
                 context: Optional[zmq.Context] = None) -> None:
        super().__init__(input, output, control, shards=shards, curve=curve, prefix=prefix, window=window,
                         heartbeat_timeout=heartbeat_timeout, control_timeout=control_timeout,
                         context=context)
        self._last_poll = 0.0

    def wait_ready(self, timeout: Optional[float] = 10.0) -> None:
        """Blocks until every shard is joined (heartbeat seen, input connected)."""
        self._wait(self._all_up, timeout, "daemons to be ready")

    # -- pumping ---------------------------------------------------------------------------

    def poll(self, timeout: float = 0.0) -> None:
        """Receives what the daemons sent, waiting up to ``timeout`` seconds for something,
        and publishes what is due. Blocking calls do this by themselves."""
        now = self._last_poll = time.monotonic()
        limit = min(now + timeout, self._core.next_deadline(now))
        self._receive(self._poller.poll(max(0, int((limit - now) * 1000 + 0.999))))

    def _wait(self, done: Callable[[], bool], timeout: Optional[float], what: str) -> None:
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
        socket, endpoint = self._control_socket(shard)
        try:
            socket.send(self._encode(command))
            if not socket.poll(int(self.control_timeout * 1000)):
                raise self._no_answer(endpoint)
            return control_answer(socket.recv())
        finally:
            socket.close()

    def _each(self, command: dict, shard: Optional[int]) -> Any:
        if shard is not None or len(self.shards) == 1:
            return self.request(command, shard or 0)
        return [self.request(command, i) for i in range(len(self.shards))]

    # -- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        """Closes the sockets; unanswered messages are abandoned."""
        if self._closed:
            return
        self._closed = True
        for socket in self._sockets:
            socket.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
