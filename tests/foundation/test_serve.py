"""``cyswllt serve`` as an operator runs it: a real process, JSON logs, a clean stop on SIGTERM."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_logs_json_and_stops_gracefully_on_sigterm(sqlite_url):
    port = free_port()
    env = {**os.environ, "CYSWLLT_DATABASE_URL": sqlite_url, "CYSWLLT_PORT": str(port),
           "CYSWLLT_HOST": "127.0.0.1", "CYSWLLT_LOG_FORMAT": "json"}
    cyswllt = str(Path(sys.executable).with_name("cyswllt"))
    proc = subprocess.Popen([cyswllt, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz?token=secret", timeout=2) as r:
                    assert r.status == 200 and json.load(r)["database"] == "ok"
                    break
            except OSError:
                assert proc.poll() is None, proc.stderr.read()
                assert time.monotonic() < deadline, "the service did not start"
                time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = [json.loads(line) for line in proc.stderr.read().splitlines() if line.strip()]
    messages = [entry["message"] for entry in lines]
    assert f"serving on http://127.0.0.1:{port}" in messages and messages[-1] == "stopped"
    access = [e for e in lines if e["logger"] == "cyswllt.access"]
    assert access and access[0]["path"] == "/healthz" and access[0]["status"] == 200
    assert all("token=secret" not in json.dumps(e) for e in lines)
