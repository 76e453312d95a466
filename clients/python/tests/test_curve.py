"""CURVE: the client's key pair and the daemon's public key (zcert files), against a daemon
that runs CURVE with an allow-list."""

import os
import subprocess

import pytest
import zmq
import zmq.auth

from daemon import streamtag_binary
from streamtag_client import Client, Curve, Timeout


def make_keys(tmp_path):
    keys = tmp_path / "keys"
    allowed = tmp_path / "clients"
    keys.mkdir()
    allowed.mkdir()
    zmq.auth.create_certificates(str(keys), "server")
    zmq.auth.create_certificates(str(keys), "client")
    zmq.auth.create_certificates(str(keys), "stranger")
    for name in ("server", "client", "stranger"):
        os.chmod(keys / f"{name}.key_secret", 0o600)
    (allowed / "client.key").write_bytes((keys / "client.key").read_bytes())
    return keys, allowed


def security_settings(keys, allowed):
    return [f"security.server_key={keys / 'server.key_secret'}", f"security.clients={allowed}",
            f"security.control_clients={allowed}"]


def test_curve_client_gets_tags_and_others_get_nothing(tmp_path, start_daemon):
    assert zmq.has("curve"), "pyzmq's libzmq has no CURVE"
    keys, allowed = make_keys(tmp_path)
    settings = security_settings(keys, allowed)
    probe = subprocess.run([streamtag_binary(), "serve", "--print-config"] + sum((["--set", s] for s in settings), []),
                           capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0, "the daemon refuses the security settings: " + probe.stderr[-2000:]
    daemon = start_daemon(settings, control_keys=(str(keys / "client.key_secret"), str(keys / "server.key")))
    curve = Curve(str(keys / "client.key_secret"), str(keys / "server.key"))
    with Client(daemon.input, daemon.output, daemon.control, curve=curve) as client:
        stream = client.stream("secret")
        stream.end(["The", "cat"])
        assert [t.token for t in stream.tags(timeout=30)] == ["The", "cat"]
        assert client.status()["ok"]
    stranger = Curve(str(keys / "stranger.key_secret"), str(keys / "server.key"))
    with Client(daemon.input, daemon.output, curve=stranger) as client:
        with pytest.raises(Timeout):
            client.wait_ready(timeout=3)


def test_curve_key_files_are_checked():
    with pytest.raises(ValueError, match="nowhere.key_secret"):
        Client(curve=("/nowhere.key_secret", "/nowhere.key"))
