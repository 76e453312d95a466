"""A real `streamtag serve` on free loopback ports, with a temporary state_dir."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Tuple, List, Optional

import zmq
import zmq.auth

REPO = Path(__file__).resolve().parents[3]


def streamtag_binary() -> str:
    """$STREAMTAG_BIN, else the worktree's debug build, else the release build."""
    explicit = os.environ.get("STREAMTAG_BIN")
    if explicit:
        return explicit
    for build in ("debug", "release"):
        path = REPO / ".build" / build / "streamtag"
        if path.exists():
            return str(path)
    raise RuntimeError("no streamtag binary: build it (swift build --product streamtag) or set STREAMTAG_BIN")


def free_ports(n: int) -> List[int]:
    sockets = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


class Daemon:
    """One daemon process; `restart()` keeps its ports and state_dir."""

    def __init__(self, directory: Path, settings: Optional[List[str]] = None, name: str = "d",
                 control_keys: Optional[Tuple[str, str]] = None) -> None:
        """`control_keys`: (client secret certificate, server public certificate) for the
        harness's own control requests when the daemon runs CURVE."""
        self.directory = directory
        self.control_keys = control_keys
        self.name = name
        self.state_dir = directory / f"{name}-state"
        p = free_ports(3)
        self.input, self.output, self.control = (f"tcp://127.0.0.1:{port}" for port in p)
        self.settings = list(settings or [])
        self.process: Optional[subprocess.Popen] = None
        self.log_path = directory / f"{name}.log"
        self.config = directory / f"{name}.yaml"
        self.config.write_text(
            f'input:\n  bind: "{self.input}"\noutput:\n  bind: "{self.output}"\n'
            f'control:\n  bind: "{self.control}"\nmetrics:\n  listen: ""\nmodel:\n  watch: false\n'
            f'heartbeat_interval: 200ms\nsnapshot_interval: 0\nstate_dir: "{self.state_dir}"\n'
            f'log_level: info\n')

    def start(self) -> "Daemon":
        log = open(self.log_path, "ab")
        args = [streamtag_binary(), "serve", "--config", str(self.config)]
        for setting in self.settings:
            args += ["--set", setting]
        self.process = subprocess.Popen(args, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"daemon exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if self.request({"cmd": "status"}, timeout=1.0).get("ok"):
                    return self
            except TimeoutError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"daemon not answering on {self.control}:\n{self.log_tail()}")
            time.sleep(0.05)

    def request(self, command: dict, timeout: float = 10.0) -> dict:
        ctx = zmq.Context.instance()
        s = ctx.socket(zmq.REQ)
        s.setsockopt(zmq.LINGER, 0)
        if self.control_keys is not None:
            public, secret = zmq.auth.load_certificate(self.control_keys[0])
            server_public, _ = zmq.auth.load_certificate(self.control_keys[1])
            s.curve_publickey, s.curve_secretkey, s.curve_serverkey = public, secret, server_public
        try:
            s.connect(self.control)
            s.send(json.dumps(command).encode())
            if not s.poll(int(timeout * 1000)):
                raise TimeoutError("no control answer")
            return json.loads(s.recv())
        finally:
            s.close()

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM and wait: the daemon finishes, snapshots and exits."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def restart(self) -> "Daemon":
        self.stop()
        return self.start()

    def log_tail(self, n: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return "(no log)"
