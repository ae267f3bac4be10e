"""The README's run command on embedded defaults: one command brings up web, worker and sweeper."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.conftest import sign

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "launch-test-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _log_in(base: str, username: str, password: str) -> None:
    """The printed demo login opens the dashboard's report list."""
    http = requests.Session()
    page = http.get(base + "/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    response = http.post(base + "/login", data={"username": username, "password": password, "csrf_token": token.group(1)},
                         timeout=10)
    assert response.status_code == 200 and response.url.endswith("/dashboard/reports/"), response.text[:300]
    assert 'data-testid="report-list"' in response.text


def test_launch_starts_the_whole_service_on_embedded_defaults(tmp_path: Path) -> None:
    """No REDIS_URL, no DATABASE_URL: the launcher starts Redis, migrates, loads the demo and serves calls."""
    port, sandbox_port = _free_port(), _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items()
           if k not in ("REDIS_URL", "DATABASE_URL", "TWILIO_ACCOUNT_SID", "SECRET_KEY", "TWILIO_API_BASE_URL")}
    env.update(GRIDLINE_INSTANCE_DIR=str(tmp_path / "instance"), PORT=str(port), PUBLIC_BASE_URL=base,
               TWILIO_AUTH_TOKEN=TOKEN, PYTHONUNBUFFERED="1", SANDBOX_PORT=str(sandbox_port))
    log = (tmp_path / "launch.log").open("w+")
    proc = subprocess.Popen([sys.executable, "-m", "telephony.launch"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        form = {"CallSid": "CA" + "9" * 32, "From": "+8613800000004", "To": "+8657188880000"}
        headers = {"X-Twilio-Signature": sign(base + "/twilio/voice", form, TOKEN)}
        deadline = time.monotonic() + 90
        response = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                response = requests.post(base + "/twilio/voice", data=form, headers=headers, timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.5)
        log.seek(0)
        output = log.read()
        assert response is not None, output
        assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/xml")
        assert "这里不是紧急求助电话" in response.text and "<Gather" in response.text
        assert "林小红您好" in response.text  # a demo resident, greeted by name
        assert requests.post(base + "/twilio/voice", data=form, timeout=5).status_code == 403
        # the processes of the Procfile all came up, on an embedded Redis, with the demo loaded
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not ("Listening on gridline" in output and "Listening on transcription" in output):
            time.sleep(0.5)
            log.seek(0)
            output = log.read()
        assert "started an embedded Redis" in output and "loaded the demo community" in output
        assert "Listening on gridline" in output  # the RQ worker for call-backs and SMS
        assert "Listening on transcription" in output  # the speech worker
        assert "no speech model" in output and "vosk-model-small-cn-0.22" in output
        assert (tmp_path / "instance" / "gridline.db").exists()
        # sandbox mode (no Twilio account): the dashboard, the phone page and a demo login are printed and work
        assert f"Dashboard: {base}/" in output
        assert f"Sandbox phone: http://127.0.0.1:{sandbox_port}/phone" in output
        password = re.search(r"password (\S+) \(in ", output)
        assert password is not None, output
        _log_in(base, "demo", password.group(1))
        assert requests.get(f"http://127.0.0.1:{sandbox_port}/phone", timeout=10).status_code == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
