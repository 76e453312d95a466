"""The sans-IO core alone: what it publishes, and when, for a given sequence of frames."""

import json

from streamtag_client._core import Core

UP, DOWN = b"\x01", b"\x00"     # the daemon's input (un)subscribing, as the XPUB reports it


def heartbeat(instance=None):
    body = {"type": "event", "event": "heartbeat", "model": "m@1", "streams": 0}
    if instance is not None:
        body["instance"] = instance
    return json.dumps(body).encode()


def joined_core(instance=7):
    """A core with one shard up and one open stream whose hello was published."""
    sent = []
    core = Core(["tcp://d:1"], publish=lambda shard, topic, body: sent.append(json.loads(body)["seq"]),
                subscribe=lambda shard, topic, on: None, clock=lambda: 0.0)
    core.on_input_subscription(0, UP)
    core.on_output(0, b"$sys", heartbeat(instance))
    state = core.open("s", False)
    core.on_output(0, b"$sys", heartbeat(instance))   # the join: a heartbeat after the subscription
    assert sent == [state.first_seq] and core.stats.restarts == 0
    return core, state, sent


def test_a_new_instance_is_a_restart_even_when_no_connection_was_seen_dropping():
    # A restart quicker than the heartbeat timeout, with the input connection's drop unseen
    # (behind a forwarder, say): the unanswered hello is published again, once.
    core, state, sent = joined_core()
    core.on_output(0, b"$sys", heartbeat(7))
    assert sent == [state.first_seq]
    core.on_output(0, b"$sys", heartbeat(8))
    assert sent == [state.first_seq] * 2
    assert (core.stats.restarts, core.stats.resent) == (1, 1)


def test_a_restart_seen_at_the_input_connection_counts_once():
    core, state, sent = joined_core()
    core.on_input_subscription(0, DOWN)
    core.on_input_subscription(0, UP)
    core.on_output(0, b"$sys", heartbeat(8))
    core.on_output(0, b"$sys", heartbeat(8))
    assert sent == [state.first_seq] * 2
    assert (core.stats.restarts, core.stats.resent) == (1, 1)


def test_heartbeats_without_an_instance_are_no_restart():
    core, state, sent = joined_core(None)        # a daemon from before the field
    core.on_output(0, b"$sys", heartbeat())
    core.on_output(0, b"$sys", heartbeat())
    assert sent == [state.first_seq] and core.stats.restarts == 0


def test_a_dropped_input_connection_holds_messages_until_a_heartbeat_of_what_comes_back():
    # The monitor's word that the input dropped, with no unsubscription yet (the XPUB reports it
    # later, or never when a restarted daemon is back first): nothing goes out until a heartbeat.
    core, state, sent = joined_core()
    core.on_input_disconnected(0)
    core.enqueue(state, ["The"], False, False)
    assert sent == [state.first_seq]
    core.on_input_subscription(0, UP)            # the restarted daemon's subscription
    assert sent == [state.first_seq]
    core.on_output(0, b"$sys", heartbeat(8))
    assert sent == [state.first_seq, state.first_seq, state.first_seq + 1]
    assert (core.stats.restarts, core.stats.resent) == (1, 1)
