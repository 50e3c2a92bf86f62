"""`airap write` against a small local stub of an OpenAI-compatible endpoint (never a real service):
the draft is checked, the lines that miss are asked for again, the sheet is marked machine-written, and
an endpoint that is down, slow or talking nonsense gives one clear line and no file."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from airap.text import parse_lyrics

AIRAP = [sys.executable, "-m", "airap.cli"]


class Stub:
    """Answers each POST with the next canned reply: a string (chat content), bytes (raw body) or a
    number (seconds to stall before answering)."""

    def __init__(self, replies):
        self.replies, self.prompts = list(replies), []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                stub.prompts.append(body["messages"][-1]["content"])
                reply = stub.replies.pop(0) if stub.replies else "nothing left"
                if isinstance(reply, (int, float)):
                    time.sleep(reply)
                    reply = "late"
                data = reply if isinstance(reply, bytes) else json.dumps(
                    {"choices": [{"message": {"role": "assistant", "content": reply}}]}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def run(url, *args, timeout="5"):
    env = dict(os.environ, AIRAP_LLM_URL=url, AIRAP_LLM_MODEL="stub-model", AIRAP_LLM_TIMEOUT=timeout)
    return subprocess.run(AIRAP + ["write", "--topic", "the night shift", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_draft_is_checked_fixed_and_marked(tmp_path):
    stub = Stub(["1. I work the night shift under neon light\n2. The city hums, I keep my focus tight\n"
                 "3. The coffee's cold, the boss is gone\n4. I count the hours to the potato",  # line 4 misses
                 "I count the hours until the dawn"])
    out = tmp_path / "song.yaml"
    r = run(stub.url, "--lines", "4", "--scheme", "AABB", "--out", str(out))
    stub.close()
    assert r.returncode == 0, r.stderr
    assert len(stub.prompts) == 2 and "Rewrite only lines 4" in stub.prompts[1]
    song = parse_lyrics(out.read_text())
    assert [ln.text for ln in song.lines][-1] == "I count the hours until the dawn"
    assert "machine_written: \"drafted by stub-model via airap write\"" in out.read_text()
    assert "scheme read: AABB" in r.stderr


@pytest.mark.parametrize("reply,needle", [
    (b"<html>502 bad gateway</html>", "not an OpenAI-style"),
    (b'{"choices": []}', "not an OpenAI-style"),
    (3.0, "did not answer"),  # slower than AIRAP_LLM_TIMEOUT=1
    ("only one line", "usable lines"),
])
def test_bad_endpoints_give_one_line_and_no_file(tmp_path, reply, needle):
    stub = Stub([reply])
    out = tmp_path / "song.yaml"
    r = run(stub.url, "--out", str(out), timeout="1")
    stub.close()
    assert r.returncode == 2 and needle in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_endpoint_down_and_not_configured(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    r = run(f"http://127.0.0.1:{port}/v1")
    assert r.returncode == 2 and "did not answer" in r.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRAP_LLM")}
    r = subprocess.run(AIRAP + ["write", "--topic", "x"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 2 and "AIRAP_LLM_URL" in r.stderr
