"""The synchronous client against a real daemon: tags, topics, events, control."""

import pytest

from streamtag_client import (Client, ControlError, End, EvictedError, Gap, GapError, Partial,
                              RejectedError, Reset, Tag)

SENTENCE = "I booked a flight to Boston for next week .".split()


def connect(daemon, **kw):
    return Client(daemon.input, daemon.output, daemon.control, **kw)


def test_tags_come_once_in_order_with_tokens_echoed(daemon):
    with connect(daemon) as client:
        stream = client.stream("call-42")
        stream.send(SENTENCE[:4])
        stream.send(SENTENCE[4:7])
        stream.end(SENTENCE[7:])
        tags = list(stream)
        model = client.status()["model"]
    assert [t.i for t in tags] == list(range(len(SENTENCE)))
    assert [t.token for t in tags] == SENTENCE
    assert all(isinstance(t, Tag) and t.model == model and 0 < t.p <= 1 for t in tags)
    assert tags[0].tag == "PRON" and tags[2].tag == "DET"


def test_same_tags_as_the_cli_would_give_in_one_message(daemon):
    # The same tokens in one message or in three give the same tags (one stream state).
    with connect(daemon) as client:
        one = client.stream("one")
        one.end(SENTENCE)
        three = client.stream("three")
        for part in (SENTENCE[:3], SENTENCE[3:6], SENTENCE[6:]):
            three.send(part)
        three.end()
        assert [(t.tag, t.p) for t in one] == [(t.tag, t.p) for t in three]


def test_topics_match_exactly_not_by_prefix(daemon):
    with connect(daemon) as client:
        short, long = client.stream("call-4"), client.stream("call-42")
        short.end(["The", "cat"])
        long.end(["A", "dog", "barks", "."])
        assert [t.token for t in short] == ["The", "cat"]
        assert [t.token for t in long] == ["A", "dog", "barks", "."]


def test_streams_opened_later_join_before_their_first_message(daemon):
    # Each new subscription needs a heartbeat after it: no stream may lose its first answer.
    with connect(daemon) as client:
        client.wait_ready()
        for n in range(12):
            stream = client.stream(f"late-{n}")
            stream.end(["hello", "world"])
            assert [t.i for t in stream.tags(timeout=20)] == [0, 1], n
            stream.close()


def test_prefix_subscription_lets_new_streams_publish_at_once(daemon):
    with connect(daemon, prefix="app/") as client:
        client.wait_ready()
        streams = [client.stream(f"app/{n}") for n in range(20)]
        for s in streams:
            s.end(["one", "two", "three"])
        for s in streams:
            assert len(s.collect(timeout=20)) == 3


def test_partial_tags_and_events_as_values(daemon):
    with connect(daemon) as client:
        stream = client.stream("p", partial=True)
        stream.send(["The", "quick", "brown"])
        stream.send(["fox"], reset=True)
        stream.end(["jumps"])
        items = list(stream.items(timeout=20))
    partials = [x for x in items if isinstance(x, Partial)]
    assert partials and all(isinstance(t, Tag) for p in partials for t in p.tags)
    assert Reset("request") in items
    # The reset releases the first three, then positions start again at 0.
    assert [t.i for t in items if isinstance(t, Tag)] == [0, 1, 2, 0, 1]
    assert items[-1] == End(2)


def test_a_gap_is_reported_as_a_value_or_raised(daemon):
    with connect(daemon) as client:
        stream = client.stream("gappy")
        seq = stream.send(["one"])
        stream._state.next_seq += 3          # as if three messages had been lost on the way
        assert stream.end(["two"]) == seq + 4
        items = list(stream.items(timeout=20))
        assert Gap(seq + 1, seq + 4) in items
        other = client.stream("gappy-2")
        seq = other.send(["one"])
        other._state.next_seq += 1
        other.end(["two"])
        with pytest.raises(GapError) as raised:
            list(other)
        assert raised.value.event == Gap(seq + 1, seq + 2)


def test_a_refused_message_raises_with_its_code_and_seq(daemon):
    with connect(daemon) as client:
        stream = client.stream("bad")
        stream.send(["ok"])
        seq = stream.send(["x" * 1025])
        with pytest.raises(RejectedError) as raised:
            stream.collect(timeout=20)
    assert raised.value.event.code == "bad_tokens" and raised.value.event.seq == seq


def test_control_status_streams_drop_reload(daemon):
    with connect(daemon) as client:
        stream = client.stream("kept")
        stream.send(["The", "cat"])
        stream.collect(timeout=20)
        status = client.status()
        assert status["ok"] and status["streams"] == 1 and status["model"].startswith("en-ewt-upos@")
        listed = client.streams()
        assert [s["id"] for s in listed["streams"]] == ["kept"]
        assert client.drop("kept")["stream"] == "kept"
        with pytest.raises(EvictedError) as raised:
            list(stream.tags(timeout=20))
        assert raised.value.event.reason == "dropped"
        with pytest.raises(ControlError, match="no such stream"):
            client.drop("kept")
        try:
            answer = client.reload()
            assert answer["model"] == status["model"]
        except ControlError as e:   # the built-in model has no file to reload: says so
            assert e.answer is not None and e.answer["model"] == status["model"]
        assert client.snapshot()["streams"] == 0


def test_overloaded_messages_are_resent_after_a_back_off(start_daemon):
    # 8 tokens fill the stream's queue (max 8), so the 1-token message right behind them is
    # refused with `overloaded`; nothing else is in flight, so its resend is the next seq.
    daemon = start_daemon(["streams.max_pending_tokens=8"])
    words = [f"w{n}" for n in range(9)]
    with connect(daemon, window=2) as client:
        stream = client.stream("busy")
        tags = []
        for _ in range(12):
            stream.send(words[:8])
            stream.send(words[8:])
            tags += stream.collect(timeout=60)
        stream.end()
        tags += list(stream.tags(timeout=60))
        assert client.stats.overloaded > 0
    assert [t.i for t in tags] == list(range(108))
    assert [t.token for t in tags] == words * 12


def test_messages_pipelined_behind_an_overloaded_one_lose_nothing(start_daemon):
    # With window 4, three 1-token messages follow 8 tokens that fill the stream's queue: the
    # first is refused, and so is every one behind it until its resend (docs/protocol.md,
    # sequence rules), so the resends go in order: no gap, nothing lost or repeated.
    daemon = start_daemon(["streams.max_pending_tokens=8"])
    words = [f"w{n}" for n in range(11)]
    with connect(daemon, window=4) as client:
        stream = client.stream("piped")
        tags = []
        for _ in range(10):
            stream.send(words[:8])
            for w in words[8:]:
                stream.send([w])
            tags += stream.collect(timeout=60)      # a Gap or Duplicate would raise here
        stream.end()
        tags += list(stream.tags(timeout=60))
        assert client.stats.overloaded > 0
    assert [t.i for t in tags] == list(range(110))
    assert [t.token for t in tags] == words * 10


def test_a_reopened_id_starts_a_fresh_stream_not_a_duplicate(daemon):
    # Within the end grace the daemon remembers the old stream's last seq; a new Stream object
    # (here, in another client as a rerun of a script would be) must still be answered.
    for _ in range(2):
        with connect(daemon) as client:
            stream = client.stream("rerun")
            stream.send(["The", "cat", "sat", "on"])          # lookahead 2: two are final
            assert [t.i for t in stream.collect(timeout=20)] == [0, 1]
    with connect(daemon) as client:       # the daemon still has "rerun" open: start over at 0
        stream = client.stream("rerun", partial=True)
        stream.end(["A", "dog"])
        items = list(stream.items(timeout=20))
        assert [(t.i, t.token) for t in items if isinstance(t, Tag)] == [(0, "A"), (1, "dog")]
        assert not [x for x in items if not isinstance(x, (Tag, Partial, End))]


def test_invalid_stream_id_is_refused_before_sending(daemon):
    with connect(daemon) as client:
        for bad in ("", "$sys", "a\0b", "x" * 257):
            with pytest.raises(ValueError):
                client.stream(bad)
