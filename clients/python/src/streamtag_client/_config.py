"""Endpoints, shards and CURVE keys: what both clients accept in their constructor."""

from __future__ import annotations

import json
from typing import List, NamedTuple, Optional, Sequence, Tuple, Union

import zmq

from ._types import ControlError


class Shard(NamedTuple):
    """One daemon: its input and output endpoints, and optionally its control endpoint."""

    input: str
    output: str
    control: Optional[str] = None


class Curve(NamedTuple):
    """CURVE keys: the client's secret certificate file (zcert format, e.g. ``client.key_secret``
    from ``streamtag keygen`` or ``zmq.auth.create_certificates``) and the daemon's public
    certificate file (``server.key``)."""

    client_key: str
    server_key: str


ShardSpec = Union[Shard, Tuple[str, str], Tuple[str, str, Optional[str]]]


def normalize_shards(input: Optional[str], output: Optional[str], control: Optional[str],
                     shards: Optional[Sequence[ShardSpec]]) -> List[Shard]:
    if shards:
        if input or output or control:
            raise ValueError("give either input/output/control or shards, not both")
        result = [Shard(*s) for s in shards]
    else:
        result = [Shard(input or "tcp://127.0.0.1:5560", output or "tcp://127.0.0.1:5561", control)]
    keys = [s.input for s in result]
    if len(set(keys)) != len(keys):
        raise ValueError("two shards have the same input endpoint")
    return result


class CurveKeys(NamedTuple):
    public: bytes
    secret: bytes
    server: bytes

    def apply(self, socket: zmq.Socket) -> None:
        socket.curve_secretkey = self.secret
        socket.curve_publickey = self.public
        socket.curve_serverkey = self.server


def load_curve(curve: Union[Curve, Tuple[str, str], None]) -> Optional[CurveKeys]:
    """Reads the key files with ``zmq.auth.load_certificate``; errors name the file."""
    if curve is None:
        return None
    import zmq.auth

    client_file, server_file = curve
    try:
        public, secret = zmq.auth.load_certificate(client_file)
    except (OSError, ValueError) as e:
        raise ValueError(f"curve client key {client_file}: {e}") from e
    if not secret:
        raise ValueError(f"curve client key {client_file}: no secret-key in it (give the *.key_secret file)")
    try:
        server, _ = zmq.auth.load_certificate(server_file)
    except (OSError, ValueError) as e:
        raise ValueError(f"curve server key {server_file}: {e}") from e
    return CurveKeys(public, secret, server)


def control_answer(frame: bytes) -> dict:
    """Decodes a control answer; ``ok: false`` raises :class:`ControlError`."""
    answer = json.loads(frame)
    if not answer.get("ok"):
        raise ControlError(str(answer.get("error", "failed")), answer)
    return answer


def control_endpoint(shard: Shard, index: int) -> str:
    if not shard.control:
        raise ControlError(f"shard {index} ({shard.input}) has no control endpoint")
    return shard.control
