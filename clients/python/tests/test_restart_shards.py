"""A daemon restart in the middle of streams, and two shards."""

from streamtag_client import Client, Discontinuity, DiscontinuityError, Tag, rendezvous_shard

WORDS = "the cat sat on the mat while a dog barked at the mailman".split()


def message(stream, n):
    return [f"{WORDS[(n + k) % len(WORDS)]}" for k in range(4)]


def test_restart_mid_stream_loses_and_repeats_nothing(start_daemon):
    daemon = start_daemon()
    ids = [f"r{n}" for n in range(5)]
    # window 8: the 5 messages that may be unanswered while no daemon runs (10-14) fit, so
    # no send blocks waiting for a daemon that is down.
    with Client(daemon.input, daemon.output, daemon.control, window=8, heartbeat_timeout=2.0) as client:
        streams = [client.stream(i) for i in ids]
        for n in range(10):
            for s in streams:
                s.send(message(s.id, n))
        before = {s.id: s.collect(timeout=30) for s in streams}   # answered before the restart
        for n in range(10, 13):             # in flight when SIGTERM comes
            for s in streams:
                s.send(message(s.id, n), timeout=60)
        daemon.stop()
        for n in range(13, 15):             # sent while no daemon runs
            for s in streams:
                s.send(message(s.id, n), timeout=60)
        daemon.start()                      # same ports, same state_dir
        for n in range(15, 20):
            for s in streams:
                s.send(message(s.id, n))
        for s in streams:
            s.end()
        after = {s.id: list(s.tags(timeout=60)) for s in streams}
        assert client.stats.restarts == 1

        # The same tokens, uninterrupted, on fresh streams of the restarted daemon.
        refs = [client.stream("ref-" + i) for i in ids]
        for n in range(20):
            for s in refs:
                s.send(message(s.id, n))
        for s in refs:
            s.end()
        reference = {s.id[4:]: [(t.i, t.token, t.tag, t.p) for t in s.tags(timeout=60)] for s in refs}

    for i in ids:
        got = [(t.i, t.token, t.tag, t.p) for t in before[i] + after[i]]
        assert len(before[i]) == 38                 # 40 tokens sent, lookahead 2
        assert [g[0] for g in got] == list(range(80)), i
        assert got == reference[i], i


def test_a_crash_that_lost_the_stream_is_reported_not_hidden(start_daemon):
    # SIGKILL, and no snapshot to restore (snapshot_interval 0): the daemon starts without the
    # stream, so positions start again at 0. The client must say so.
    daemon = start_daemon()
    with Client(daemon.input, daemon.output, daemon.control, heartbeat_timeout=2.0) as client:
        stream = client.stream("crash")
        stream.send(WORDS[:4])
        assert [t.i for t in stream.collect(timeout=30)] == [0, 1]
        daemon.kill()
        daemon.start()                  # at once: quicker than the heartbeat timeout
        stream.send(WORDS[4:8])
        stream.end()
        items = list(stream.items(timeout=60))
        assert client.stats.restarts == 1
        assert Discontinuity(2, 0) in items
        assert [t.i for t in items if isinstance(t, Tag)] == [0, 1, 2, 3]
        again = client.stream("crash-2")
        again.send(WORDS[:4])
        again.collect(timeout=30)
        daemon.kill()
        daemon.start()
        again.end(WORDS[4:8])
        try:
            list(again)
            raise AssertionError("no DiscontinuityError")
        except DiscontinuityError as e:
            assert e.event == Discontinuity(2, 0)


def test_two_shards_route_each_stream_to_one_daemon(start_daemon):
    a = start_daemon(name="a")
    b = start_daemon(name="b")
    shards = [(a.input, a.output, a.control), (b.input, b.output, b.control)]
    ids = [f"tenant/{n}" for n in range(24)]
    with Client(shards=shards) as client:
        streams = [client.stream(i) for i in ids]
        for s in streams:
            s.send(["The", "cat", "sat", "on"])
        for s in streams:
            assert [t.i for t in s.collect(timeout=30)] == [0, 1]     # lookahead 2
        on = [set(x["id"] for x in answer["streams"]) for answer in client.streams()]
        expected = [set(i for i in ids if client.shard_of(i) == k) for k in (0, 1)]
        assert on == expected and all(on)
        assert [s["streams"] for s in client.status()] == [len(expected[0]), len(expected[1])]
        for s in streams:
            s.end(["the", "mat"])
        for s in streams:
            assert [t.i for t in s.tags(timeout=30)] == [2, 3, 4, 5]


def test_rendezvous_hashing_moves_only_what_a_new_shard_wins():
    ids = [f"call-{n}" for n in range(2000)]
    two = ["tcp://a:1", "tcp://b:1"]
    three = two + ["tcp://c:1"]
    before = {i: rendezvous_shard(i, two) for i in ids}
    after = {i: rendezvous_shard(i, three) for i in ids}
    moved = [i for i in ids if before[i] != after[i]]
    assert all(after[i] == 2 for i in moved)
    assert 500 < len(moved) < 850                # about a third
    assert 850 < sum(1 for i in ids if before[i] == 0) < 1150
