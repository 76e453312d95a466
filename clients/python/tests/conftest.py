import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from daemon import Daemon  # noqa: E402


@pytest.fixture
def start_daemon(tmp_path):
    """Starts daemons (`start_daemon(settings=[...], name=...)`); all are stopped at the end."""
    started = []

    def start(settings=None, name="d"):
        daemon = Daemon(tmp_path, settings, name).start()
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.kill()


@pytest.fixture
def daemon(start_daemon):
    return start_daemon()
