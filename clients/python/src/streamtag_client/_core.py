"""The protocol logic shared by the synchronous and the asyncio client, without sockets.

The wrappers own the ZeroMQ sockets: they feed every received message to :class:`Core` and give
it two callbacks, ``publish(shard, topic, body)`` and ``subscribe(shard, topic, on)``. Everything
that docs/protocol.md asks of a producer lives here: joining (heartbeat), seq numbering, keeping
each message until its outcome arrives, resending after a daemon restart, backing off on
``overloaded``, exact topic matching and typed events.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import deque
from typing import Callable, Deque, Dict, List, Optional, Sequence, Set

from ._types import (Discontinuity, Duplicate, End, Error, Evicted, Gap, Item, ModelChanged, Partial, Reset,
                     SystemEvent, Tag)

SYS = b"$sys"
_new_tuple = tuple.__new__
_loads = json.loads
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def rendezvous_shard(stream_id: str, keys: Sequence[str]) -> int:
    """The shard of ``stream_id`` among shards named by ``keys`` (their input endpoints), by
    rendezvous (highest random weight) hashing: the weight of shard ``k`` is the first 8 bytes,
    big-endian, of BLAKE2b-64 over ``k`` + NUL + the id (UTF-8). Adding a shard moves only the
    streams it wins; ties go to the first shard."""
    if len(keys) == 1:
        return 0
    ident = stream_id.encode()
    best, best_weight = 0, -1
    for index, key in enumerate(keys):
        weight = int.from_bytes(hashlib.blake2b(key.encode() + b"\0" + ident, digest_size=8).digest(), "big")
        if weight > best_weight:
            best, best_weight = index, weight
    return best


class Message:
    """One message kept until its outcome (answer, refusal) arrives."""

    __slots__ = ("seq", "body", "sent")

    def __init__(self, seq: int, body: bytes) -> None:
        self.seq = seq
        self.body = body
        self.sent = False


class StreamState:
    """What the client knows about one open stream."""

    __slots__ = ("id", "key", "shard", "first_seq", "hello", "next_seq", "pending", "unsent", "items", "partial",
                 "join_after", "retry_at", "backoff", "ended", "closed", "next_i")

    def __init__(self, stream_id: str, shard: int, partial: bool, join_after: int, first_seq: int) -> None:
        self.id = stream_id
        self.key = stream_id.encode()
        self.shard = shard
        #: The seq of this object's first message: the hello (no tokens, ``reset``).
        self.first_seq = first_seq
        #: The hello's seq while its answer has not arrived.
        self.hello: Optional[int] = first_seq
        self.next_seq = first_seq
        #: Messages without an outcome yet, in seq order.
        self.pending: Dict[int, Message] = {}
        self.unsent = 0
        self.items: Deque[Item] = deque()
        self.partial = partial
        #: The stream may publish once its shard has seen more heartbeats than this.
        self.join_after = join_after
        self.retry_at = 0.0
        self.backoff = 0.0
        #: An ``end`` was sent and its ``End`` (or an eviction) has not arrived yet.
        self.ended = False
        self.closed = False
        #: The next final position expected; None right after a reset (its answer may hold
        #: the old window's positions, then 0, 1, …).
        self.next_i: Optional[int] = 0


class ShardState:
    """One daemon: its liveness as the client sees it."""

    __slots__ = ("index", "heartbeats", "last_heartbeat", "instance", "alive", "input_subscriptions", "up",
                 "restarts", "streams")

    def __init__(self, index: int) -> None:
        self.index = index
        self.heartbeats = 0
        self.last_heartbeat = 0.0
        #: The ``instance`` of the last heartbeat: a new one is a new run of the daemon.
        self.instance: Optional[int] = None
        #: A heartbeat arrived since the shard was last seen going away.
        self.alive = False
        #: Subscriptions the daemon's input SUB holds on our XPUB (0: input not connected).
        self.input_subscriptions = 0
        self.up = False
        #: How many times the shard came back after going away.
        self.restarts = -1
        self.streams: Set[StreamState] = set()


class Stats:
    """Counters for tests and monitoring."""

    __slots__ = ("published", "resent", "overloaded", "ignored", "restarts")

    def __init__(self) -> None:
        self.published = 0
        self.resent = 0
        self.overloaded = 0
        self.ignored = 0
        self.restarts = 0


class Core:
    """Protocol state of one client over one or more shards."""

    def __init__(self, keys: Sequence[str], *, publish: Callable[[int, bytes, bytes], None],
                 subscribe: Callable[[int, bytes, bool], None], clock: Callable[[], float],
                 prefix: Optional[str] = None, heartbeat_timeout: float = 5.0,
                 backoff: float = 0.01, max_backoff: float = 1.0) -> None:
        self.shards = [ShardState(i) for i in range(len(keys))]
        self.keys = list(keys)
        self.streams: Dict[bytes, StreamState] = {}
        self._publish = publish
        self._subscribe = subscribe
        self.clock = clock
        self.prefix = prefix
        self.heartbeat_timeout = heartbeat_timeout
        self.first_backoff = backoff
        self.max_backoff = max_backoff
        #: Streams with messages that wait for their shard, their join or a back-off.
        self.waiting: Set[StreamState] = set()
        self.system_events: Deque[SystemEvent] = deque(maxlen=1000)
        self.stats = Stats()
        #: Next seq of streams closed in this process, so a reopened id never reuses a seq.
        self._closed_seq: Dict[bytes, int] = {}
        for shard in self.shards:
            subscribe(shard.index, SYS, True)
            if prefix:
                subscribe(shard.index, prefix.encode(), True)

    # -- streams ---------------------------------------------------------------------------

    def open(self, stream_id: str, partial: bool) -> StreamState:
        key = stream_id.encode()
        if not key or len(key) > 256 or key.startswith(b"$") or b"\0" in key:
            raise ValueError(f"invalid stream id {stream_id!r}: 1-256 bytes of UTF-8, no NUL, not starting with '$'")
        shard = self.shards[rendezvous_shard(stream_id, self.keys)]
        covered = bool(self.prefix) and stream_id.startswith(self.prefix)  # type: ignore[arg-type]
        # The first seq is the time in microseconds: above any seq an earlier stream object with
        # this id used (here or in an earlier process), so that it never meets a `duplicate`
        # of the daemon's memory of that stream (its end grace). The first message is a hello
        # with no tokens and `reset`: if the daemon still has an open stream of this id, the
        # hello clears it and takes the old window's tags, which are dropped here. So each
        # Stream object starts a clean stream at position 0.
        first = max(time.time_ns() // 1000, self._closed_seq.pop(key, 0))
        state = StreamState(stream_id, shard.index, partial, 0 if covered else shard.heartbeats, first)
        if not covered:
            self._subscribe(shard.index, key, True)
        self.streams[key] = state
        shard.streams.add(state)
        self.enqueue(state, (), True, False)
        return state

    def close(self, state: StreamState) -> None:
        if state.closed:
            return
        state.closed = True
        self._closed_seq[state.key] = state.next_seq
        self.streams.pop(state.key, None)
        self.shards[state.shard].streams.discard(state)
        self.waiting.discard(state)
        if not (self.prefix and state.id.startswith(self.prefix)):
            self._subscribe(state.shard, state.key, False)

    def enqueue(self, state: StreamState, tokens: Sequence[str], reset: bool, end: bool) -> int:
        """Numbers a message, keeps it until its outcome, and publishes it when allowed."""
        if state.closed:
            raise ValueError(f"stream {state.id!r} is closed")
        seq = state.next_seq
        state.next_seq = seq + 1
        body: Dict[str, object] = {"seq": seq, "tokens": list(tokens)}
        if reset:
            body["reset"] = True
        if end:
            body["end"] = True
            state.ended = True
        state.pending[seq] = Message(seq, _dumps(body).encode())
        state.unsent += 1
        self.flush(state, self.clock())
        return seq

    def flush(self, state: StreamState, now: float) -> None:
        """Publishes the stream's unsent messages in seq order, if its shard is up, the stream
        has joined and no back-off is running."""
        if not state.unsent:
            return
        shard = self.shards[state.shard]
        if not shard.up or shard.heartbeats <= state.join_after or now < state.retry_at:
            self.waiting.add(state)
            return
        publish = self._publish
        for message in state.pending.values():
            if not message.sent:
                publish(shard.index, state.key, message.body)
                message.sent = True
                self.stats.published += 1
        state.unsent = 0
        self.waiting.discard(state)

    # -- timers ----------------------------------------------------------------------------

    def tick(self, now: float) -> None:
        """Heartbeat timeouts and the messages whose wait is over."""
        for shard in self.shards:
            if shard.alive and now - shard.last_heartbeat > self.heartbeat_timeout:
                self._gone(shard)
        if self.waiting:
            for state in list(self.waiting):
                self.flush(state, now)

    def next_deadline(self, now: float) -> float:
        """When :meth:`tick` has something to do next (at most one heartbeat timeout away)."""
        deadline = now + 1.0
        for shard in self.shards:
            if shard.alive:
                deadline = min(deadline, shard.last_heartbeat + self.heartbeat_timeout)
        for state in self.waiting:
            if state.retry_at > now:
                deadline = min(deadline, state.retry_at)
        return deadline

    def _gone(self, shard: ShardState) -> None:
        """The daemon behind ``shard`` went away (stopping, a dropped input connection, a new
        run, silence): nothing is published until a heartbeat proves what answers next."""
        shard.alive = False
        self._update(shard)

    def _update(self, shard: ShardState) -> None:
        ready = shard.alive and shard.input_subscriptions > 0
        if ready and not shard.up:
            shard.up = True
            shard.restarts += 1
            if shard.restarts > 0:
                self.stats.restarts += 1
            # Everything still unanswered was never processed (docs/protocol.md#restarts):
            # publish it again, in seq order, with its original seq.
            now = self.clock()
            for state in shard.streams:
                for message in state.pending.values():
                    if message.sent:
                        message.sent = False
                        state.unsent += 1
                        self.stats.resent += 1
                state.retry_at = 0.0
                self.flush(state, now)
        elif not ready and shard.up:
            shard.up = False

    # -- input socket (XPUB) ---------------------------------------------------------------

    def on_input_subscription(self, shard_index: int, frame: bytes) -> None:
        """A (un)subscription from the daemon's input SUB: the input connection's state."""
        if not frame:
            return
        shard = self.shards[shard_index]
        shard.input_subscriptions += 1 if frame[0] == 1 else -1
        if shard.input_subscriptions <= 0:
            # The daemon went away: whatever comes back must prove its output with a new
            # heartbeat before anything is resent.
            shard.input_subscriptions = 0
            shard.alive = False
        self._update(shard)

    def on_input_disconnected(self, shard_index: int) -> None:
        """The input connection dropped (the socket monitor says so at once; the XPUB's
        unsubscription may come later, or never when a restarted daemon is back first): the
        shard is down until a heartbeat proves the output of whatever answers next."""
        self._gone(self.shards[shard_index])

    # -- output socket (SUB) ---------------------------------------------------------------

    def on_output(self, shard_index: int, topic: bytes, body: bytes) -> None:
        """One message from a daemon's output."""
        state = self.streams.get(topic)
        if state is None:
            if topic == SYS:
                self._on_system(self.shards[shard_index], body)
            # Otherwise a longer id that our subscription matched as a prefix: not ours.
            return
        message = _loads(body)
        if message.get("type") == "tags":
            self._on_tags(state, message)
        else:
            self._on_event(state, message)

    def _on_tags(self, state: StreamState, message: dict) -> None:
        seq = message["seq"]
        pending = state.pending
        if pending.pop(seq, None) is None:
            # The answer to a message answered before (a daemon restored from an older
            # snapshot re-ran it): its tags were delivered then.
            self.stats.ignored += 1
            return
        self._orphans(state, seq)
        state.backoff = 0.0
        if seq == state.hello:
            state.hello = None      # what it released belongs to an older stream of this id
            state.next_i = 0
            return
        model = message["model"]
        items = state.items
        tags = message["tags"]
        if tags:
            first = tags[0]["i"]
            if state.next_i is not None and first != state.next_i:
                items.append(Discontinuity(state.next_i, first))
            state.next_i = tags[-1]["i"] + 1
        for t in tags:
            items.append(_new_tuple(Tag, (t["i"], t["token"], t["tag"], t["p"], model)))
        if state.partial and "partial" in message:
            items.append(Partial(seq, tuple(_new_tuple(Tag, (t["i"], t["token"], t["tag"], t["p"], model))
                                            for t in message["partial"])))

    def _orphans(self, state: StreamState, seq: int) -> None:
        """Outcomes come in seq order: messages before ``seq`` still pending lost theirs."""
        pending = state.pending
        if pending and next(iter(pending)) < seq:
            for old in [s for s in pending if s < seq]:
                if not pending.pop(old).sent:
                    state.unsent -= 1
                state.items.append(Duplicate(old, seq))

    def _on_event(self, state: StreamState, message: dict) -> None:
        event = message.get("event")
        items = state.items
        pending = state.pending
        if event == "error":
            code, seq = message.get("code", ""), message.get("seq")
            if seq is None:
                # No readable seq: by the ordering rule it is the oldest message sent.
                seq = next((s for s, m in pending.items() if m.sent), None)
            target = pending.get(seq) if seq is not None else None
            if code == "overloaded" and target is not None:
                target.sent = False
                state.unsent += 1
                state.backoff = min(self.max_backoff, state.backoff * 2 or self.first_backoff)
                state.retry_at = self.clock() + state.backoff
                self.stats.overloaded += 1
                self.waiting.add(state)
                return
            if target is not None:
                del pending[target.seq]
            items.append(Error(code, message.get("message", ""), message.get("seq")))
        elif event == "gap":
            expected, received = message["expected"], message["received"]
            if received == state.first_seq:
                # Our first message continued a stream the daemon had from before this object
                # (its reset clears it): the missing seqs were never ours.
                self.stats.ignored += 1
                return
            expected = max(expected, state.first_seq)
            for lost in [s for s in pending if expected <= s < received]:
                message_lost = pending.pop(lost)
                if not message_lost.sent:
                    state.unsent -= 1
            items.append(Gap(expected, received))
        elif event == "duplicate":
            seq = message["seq"]
            if pending.pop(seq, None) is None:
                self.stats.ignored += 1     # a resend of a message answered before
                return
            items.append(Duplicate(seq, message["last"]))
        elif event == "reset":
            if state.hello is None:         # else the hello's reset of an older stream
                state.next_i = None
                items.append(Reset(message["reason"]))
        elif event == "end":
            state.ended = False
            state.next_i = 0                # a later message starts a new stream
            items.append(End(message["tokens"]))
        elif event == "evicted":
            # The daemon discarded what it had queued: sent messages will never be answered;
            # unsent ones will start a new stream.
            for seq in [s for s, m in pending.items() if m.sent]:
                del pending[seq]
            state.ended = False
            state.next_i = 0
            items.append(Evicted(message["reason"]))
        elif event == "model":
            items.append(ModelChanged(message["from"], message["to"]))

    def _on_system(self, shard: ShardState, body: bytes) -> None:
        message = _loads(body)
        event = message.get("event")
        if event == "heartbeat":
            instance = message.get("instance")
            if instance != shard.instance:
                if shard.instance is not None and shard.alive:
                    # A restart that neither the input connection nor the heartbeat timeout
                    # showed (quicker than both, or behind a forwarder; docs/protocol.md#events):
                    # the old run went away, and this heartbeat brings the new one up.
                    self._gone(shard)
                shard.instance = instance
            shard.heartbeats += 1
            shard.last_heartbeat = self.clock()
            if not shard.alive:
                shard.alive = True
                self._update(shard)
            if self.waiting:
                now = shard.last_heartbeat
                for state in list(self.waiting):
                    if state.shard == shard.index:
                        self.flush(state, now)
            return
        if event == "stopping":
            self._gone(shard)
        fields = {k: v for k, v in message.items() if k not in ("type", "event")}
        self.system_events.append(SystemEvent(shard.index, str(event), fields))

    # -- helpers for the wrappers ----------------------------------------------------------

    @staticmethod
    def take(state: StreamState) -> List[Item]:
        items = list(state.items)
        state.items.clear()
        return items
