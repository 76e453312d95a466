"""The asyncio client: a reader task receives for every stream; coroutines wait for it."""

from __future__ import annotations

import asyncio
import time
from typing import Any, AsyncIterator, Callable, List, Optional, Sequence, Tuple, Union

import zmq
import zmq.asyncio

from ._base import ClientBase, StreamBase
from ._config import Curve, ShardSpec, control_answer
from ._core import Core
from ._types import End, Evicted, Item, Tag, Timeout


class AsyncStream(StreamBase):
    """One token stream of an :class:`AsyncClient`."""

    _client: "AsyncClient"

    async def send(self, tokens: Sequence[str], *, end: bool = False, reset: bool = False,
                   timeout: Optional[float] = None) -> int:
        """Sends the next message; waits while ``window`` messages are unanswered."""
        client = self._client
        client._start()
        if not self._has_room():
            await client._wait(self._has_room, timeout, f"room in {self.id!r}'s window")
        return client._core.enqueue(self._state, tokens, reset, end)

    async def end(self, tokens: Sequence[str] = (), *, timeout: Optional[float] = None) -> int:
        """Sends the stream's last message."""
        return await self.send(tokens, end=True, timeout=timeout)

    def take(self) -> List[Item]:
        """Every item received so far, as typed values."""
        return Core.take(self._state)

    async def items(self, timeout: Optional[float] = None) -> AsyncIterator[Item]:
        """Every item until :class:`End` or :class:`Evicted` (both yielded)."""
        items = self._state.items
        while True:
            if not items:
                await self._client._wait(self._has_items, timeout, f"stream {self.id!r}")
            item = items.popleft()
            yield item
            if type(item) is End or type(item) is Evicted:
                return

    async def tags(self, timeout: Optional[float] = None) -> AsyncIterator[Tag]:
        """The final tags until the stream ends; raises like :meth:`Stream.tags`."""
        async for item in self.items(timeout):
            if self._is_tag(item):
                yield item  # type: ignore[misc]
            elif type(item) is End:
                return

    def __aiter__(self) -> AsyncIterator[Tag]:
        return self.tags()

    async def collect(self, timeout: Optional[float] = None) -> List[Tag]:
        """Waits for the outcome of every message sent so far; returns the final tags."""
        await self._client._wait(self._settled, timeout, f"answers on {self.id!r}")
        return self._final_tags()


class AsyncClient(ClientBase[AsyncStream]):
    """The asyncio twin of :class:`~streamtag_client.Client`: same arguments, same
    behaviour; the blocking methods are coroutines and the control calls return awaitables.
    Use it as ``async with AsyncClient(...) as client:`` (or call :meth:`close`); it receives
    in a task of the running loop."""

    _context_class = zmq.asyncio.Context
    _poller_class = zmq.asyncio.Poller
    _stream_class = AsyncStream

    def __init__(self, input: Optional[str] = None, output: Optional[str] = None,
                 control: Optional[str] = None, *, shards: Optional[Sequence[ShardSpec]] = None,
                 curve: Union[Curve, Tuple[str, str], None] = None, prefix: Optional[str] = None,
                 window: int = 8, heartbeat_timeout: float = 5.0, control_timeout: float = 10.0,
                 context: Optional[zmq.asyncio.Context] = None) -> None:
        super().__init__(input, output, control, shards=shards, curve=curve, prefix=prefix, window=window,
                         heartbeat_timeout=heartbeat_timeout, control_timeout=control_timeout,
                         context=context)
        self._reader: Optional[asyncio.Task] = None
        self._progress: Optional[asyncio.Event] = None

    def _sync_view(self, socket: zmq.Socket) -> zmq.Socket:
        # Sends and receives that never block need no future: a synchronous shadow does them.
        return zmq.Socket.shadow(socket.underlying)

    async def wait_ready(self, timeout: Optional[float] = 10.0) -> None:
        """Waits until every shard is joined (heartbeat seen, input connected)."""
        await self._wait(self._all_up, timeout, "daemons to be ready")

    # -- the reader task -------------------------------------------------------------------

    def _start(self) -> None:
        if self._closed:
            raise ValueError("the client is closed")
        if self._reader is None:
            self._progress = asyncio.Event()
            self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        while not self._closed:
            now = time.monotonic()
            ms = max(1, int((self._core.next_deadline(now) - now) * 1000 + 0.999))
            self._receive(await self._poller.poll(ms))
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

    # -- control ---------------------------------------------------------------------------

    async def request(self, command: dict, shard: int = 0) -> dict:
        """Sends one control request to ``shard``; raises :class:`ControlError` when the answer
        has ``ok: false`` or none comes in time."""
        socket, endpoint = self._control_socket(shard)
        try:
            await socket.send(self._encode(command))
            try:
                frame = await asyncio.wait_for(socket.recv(), self.control_timeout)
            except asyncio.TimeoutError:
                raise self._no_answer(endpoint) from None
            return control_answer(frame)
        finally:
            socket.close()

    async def _each(self, command: dict, shard: Optional[int]) -> Any:
        if shard is not None or len(self.shards) == 1:
            return await self.request(command, shard or 0)
        return list(await asyncio.gather(*(self.request(command, i) for i in range(len(self.shards)))))

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
        for socket in self._sockets:
            socket.close()

    async def __aenter__(self) -> "AsyncClient":
        self._start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
