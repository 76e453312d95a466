import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from daemon import Daemon  # noqa: E402


@pytest.fixture
def start_daemon(tmp_path):
    """Starts daemons (`start_daemon(settings=[...], name=...)`); all are stopped at the end."""
    started = []

    def start(settings=None, name="d", control_keys=None):
        daemon = Daemon(tmp_path, settings, name, control_keys).start()
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.kill()


@pytest.fixture
def daemon(start_daemon):
    return start_daemon()


class TestTimedOut(Exception):
    pass


@pytest.fixture(autouse=True)
def time_limit():
    """Fails a test that runs over 5 minutes instead of letting it hang CI."""
    import signal

    def expire(signum, frame):
        raise TestTimedOut("test ran over 300 s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(300)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)
