"""The asyncio client: a reader task receives for every stream; coroutines wait for it."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, AsyncIterator, Callable, Dict, List, Optional, Sequence, Tuple, Union

import zmq
import zmq.asyncio

from ._config import (Curve, ShardSpec, control_answer, control_endpoint, load_curve,
                      normalize_shards)
from ._core import Core, StreamState, rendezvous_shard
from ._types import ControlError, End, Evicted, Item, Partial, Tag, Timeout, raise_for


class AsyncClient:
    """The asyncio twin of :class:`~streamtag_client.Client`: same arguments, same
    behaviour; the blocking methods are coroutines. Use it as ``async with AsyncClient(...)
    as client:`` (or call :meth:`close`); it receives in a task of the running loop."""

    def __init__(self, input: Optional[str] = None, output: Optional[str] = None,
                 control: Optional[str] = None, *, shards: Optional[Sequence[ShardSpec]] = None,
                 curve: Union[Curve, Tuple[str, str], None] = None, prefix: Optional[str] = None,
                 window: int = 8, heartbeat_timeout: float = 5.0, control_timeout: float = 10.0,
                 context: Optional[zmq.asyncio.Context] = None) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        self.shards = normalize_shards(input, output, control, shards)
        self.window = window
        self.control_timeout = control_timeout
        self._curve = load_curve(curve)
        self._context = context or zmq.asyncio.Context.instance()
        self._poller = zmq.asyncio.Poller()
        self._pubs: List[zmq.Socket] = []   # synchronous shadows, for non-blocking sends
        self._subs: List[zmq.Socket] = []
        self._async_sockets: List[zmq.asyncio.Socket] = []
        self._drain: Dict[zmq.asyncio.Socket, Tuple[zmq.Socket, int, bool]] = {}
        for index, shard in enumerate(self.shards):
            pub = self._socket(zmq.XPUB)
            pub.setsockopt(zmq.SNDHWM, 0)
            pub.connect(shard.input)
            sub = self._socket(zmq.SUB)
            sub.setsockopt(zmq.RCVHWM, 0)
            sub.connect(shard.output)
            for socket, is_input in ((pub, True), (sub, False)):
                self._poller.register(socket, zmq.POLLIN)
                self._async_sockets.append(socket)
                self._drain[socket] = (zmq.Socket.shadow(socket.underlying), index, is_input)
            self._pubs.append(self._drain[pub][0])
            self._subs.append(self._drain[sub][0])
        self._core = Core([s.input for s in self.shards], publish=self._publish,
                          subscribe=self._subscribe, clock=time.monotonic, prefix=prefix,
                          heartbeat_timeout=heartbeat_timeout)
        self._streams: dict = {}
        self._reader: Optional[asyncio.Task] = None
        self._progress: Optional[asyncio.Event] = None
        self._closed = False

    def _socket(self, kind: int) -> zmq.asyncio.Socket:
        socket = self._context.socket(kind)
        socket.setsockopt(zmq.LINGER, 1000)
        if self._curve:
            self._curve.apply(socket)
        return socket

    def _publish(self, shard: int, topic: bytes, body: bytes) -> None:
        self._pubs[shard].send_multipart((topic, body))

    def _subscribe(self, shard: int, topic: bytes, on: bool) -> None:
        self._subs[shard].setsockopt(zmq.SUBSCRIBE if on else zmq.UNSUBSCRIBE, topic)

    # -- the reader task -------------------------------------------------------------------

    def _start(self) -> None:
        if self._closed:
            raise ValueError("the client is closed")
        if self._reader is None:
            self._progress = asyncio.Event()
            self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        core = self._core
        while not self._closed:
            now = time.monotonic()
            ms = max(1, int((core.next_deadline(now) - now) * 1000 + 0.999))
            ready = await self._poller.poll(ms)
            for socket, _ in ready:
                shadow, index, is_input = self._drain[socket]
                while True:
                    try:
                        frames = shadow.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    if is_input:
                        core.on_input_subscription(index, frames[0])
                    elif len(frames) == 2:
                        core.on_output(index, frames[0], frames[1])
            core.tick(time.monotonic())
            # Wake every waiter; each checks its own condition again.
            progress, self._progress = self._progress, asyncio.Event()
            progress.set()  # type: ignore[union-attr]

    async def _wait(self, done: Callable[[], bool], timeout: Optional[float], what: str) -> None:
        self._start()
        deadline = None if timeout is None else time.monotonic() + timeout
        while not done():
            if self._closed:
                raise ValueError("the client is closed")
            if self._reader is not None and self._reader.done():
                self._reader.result()   # re-raises what stopped the reader
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise Timeout(f"timed out after {timeout} s waiting for {what}")
            try:
                await asyncio.wait_for(self._progress.wait(), remaining)  # type: ignore[union-attr]
            except asyncio.TimeoutError:
                pass

    # -- streams ---------------------------------------------------------------------------

    def stream(self, stream_id: str, *, partial: bool = False) -> "AsyncStream":
        """The stream ``stream_id`` (the same object while it is open)."""
        stream = self._streams.get(stream_id)
        if stream is None:
            stream = AsyncStream(self, self._core.open(stream_id, partial))
            self._streams[stream_id] = stream
        return stream

    def shard_of(self, stream_id: str) -> int:
        """The index in ``shards`` of the daemon that serves ``stream_id``."""
        return rendezvous_shard(stream_id, [s.input for s in self.shards])

    async def wait_ready(self, timeout: Optional[float] = 10.0) -> None:
        """Waits until every shard is joined (heartbeat seen, input connected)."""
        await self._wait(lambda: all(s.up for s in self._core.shards), timeout, "daemons to be ready")

    @property
    def system_events(self):
        """The last daemon-wide events (``$sys``)."""
        return self._core.system_events

    @property
    def stats(self):
        """Counters: ``published``, ``resent``, ``overloaded``, ``ignored``, ``restarts``."""
        return self._core.stats

    # -- control ---------------------------------------------------------------------------

    async def request(self, command: dict, shard: int = 0) -> dict:
        """Sends one control request to ``shard``; raises :class:`ControlError` when the answer
        has ``ok: false`` or none comes in time."""
        endpoint = control_endpoint(self.shards[shard], shard)
        socket = self._socket(zmq.REQ)
        socket.setsockopt(zmq.LINGER, 0)
        try:
            socket.connect(endpoint)
            await socket.send(json.dumps(command).encode())
            try:
                frame = await asyncio.wait_for(socket.recv(), self.control_timeout)
            except asyncio.TimeoutError:
                raise ControlError(f"no answer from {endpoint} within {self.control_timeout} s") from None
            return control_answer(frame)
        finally:
            socket.close()

    async def _each(self, command: dict, shard: Optional[int]) -> Any:
        if shard is not None or len(self.shards) == 1:
            return await self.request(command, shard or 0)
        return list(await asyncio.gather(*(self.request(command, i) for i in range(len(self.shards)))))

    async def status(self, shard: Optional[int] = None) -> Any:
        """The daemon's ``status`` answer (a list of them with several shards)."""
        return await self._each({"cmd": "status"}, shard)

    async def reload(self, shard: Optional[int] = None) -> Any:
        """Asks the daemon(s) to reload the model file."""
        return await self._each({"cmd": "reload"}, shard)

    async def snapshot(self, shard: Optional[int] = None) -> Any:
        """Asks the daemon(s) to write a snapshot now."""
        return await self._each({"cmd": "snapshot"}, shard)

    async def streams(self, limit: Optional[int] = None, shard: Optional[int] = None) -> Any:
        """The daemon's open streams."""
        command: dict = {"cmd": "streams"}
        if limit is not None:
            command["limit"] = limit
        return await self._each(command, shard)

    async def drop(self, stream_id: str) -> dict:
        """Drops a stream at the daemon that serves it."""
        return await self.request({"cmd": "drop", "stream": stream_id}, self.shard_of(stream_id))

    # -- lifetime --------------------------------------------------------------------------

    async def close(self) -> None:
        """Stops the reader and closes the sockets."""
        if self._closed:
            return
        self._closed = True
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):
                pass
        for socket in self._async_sockets:
            socket.close()

    async def __aenter__(self) -> "AsyncClient":
        self._start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class AsyncStream:
    """One token stream of an :class:`AsyncClient`."""

    def __init__(self, client: AsyncClient, state: StreamState) -> None:
        self._client = client
        self._state = state

    @property
    def id(self) -> str:
        return self._state.id

    @property
    def shard(self) -> int:
        return self._state.shard

    @property
    def pending(self) -> int:
        return len(self._state.pending)

    async def send(self, tokens: Sequence[str], *, end: bool = False, reset: bool = False,
                   timeout: Optional[float] = None) -> int:
        """Sends the next message; waits while ``window`` messages are unanswered."""
        state, client = self._state, self._client
        client._start()
        if len(state.pending) >= client.window:
            await client._wait(lambda: len(state.pending) < client.window, timeout, f"room in {state.id!r}'s window")
        return client._core.enqueue(state, tokens, reset, end)

    async def end(self, tokens: Sequence[str] = (), *, timeout: Optional[float] = None) -> int:
        """Sends the stream's last message."""
        return await self.send(tokens, end=True, timeout=timeout)

    def take(self) -> List[Item]:
        """Every item received so far, as typed values."""
        return self._client._core.take(self._state)

    async def items(self, timeout: Optional[float] = None) -> AsyncIterator[Item]:
        """Every item until :class:`End` or :class:`Evicted` (both yielded)."""
        state, client = self._state, self._client
        while True:
            if not state.items:
                await client._wait(lambda: bool(state.items), timeout, f"stream {state.id!r}")
            item = state.items.popleft()
            yield item
            if type(item) is End or type(item) is Evicted:
                return

    async def tags(self, timeout: Optional[float] = None) -> AsyncIterator[Tag]:
        """The final tags until the stream ends; raises like :meth:`Stream.tags`."""
        async for item in self.items(timeout):
            kind = type(item)
            if kind is Tag:
                yield item  # type: ignore[misc]
            elif kind is End:
                return
            elif kind is not Partial:
                raise_for(self._state.id, item)  # type: ignore[arg-type]

    def __aiter__(self) -> AsyncIterator[Tag]:
        return self.tags()

    async def collect(self, timeout: Optional[float] = None) -> List[Tag]:
        """Waits for the outcome of every message sent so far; returns the final tags."""
        state, client = self._state, self._client
        await client._wait(lambda: not state.pending and not state.ended, timeout, f"answers on {state.id!r}")
        out: List[Tag] = []
        for item in client._core.take(state):
            kind = type(item)
            if kind is Tag:
                out.append(item)  # type: ignore[arg-type]
            elif kind is not Partial and kind is not End:
                raise_for(state.id, item)  # type: ignore[arg-type]
        return out

    def close(self) -> None:
        """Unsubscribes and forgets the stream."""
        self._client._core.close(self._state)
        self._client._streams.pop(self._state.id, None)
