"""Adversarial replay (issue 17): a real `airap serve`, every row of the attack table, each measured for
status, seconds, the API process's peak RSS growth (VmHWM reset before the row) and the slowest
/healthz answer while it ran (polled every 50 ms).

    .venv/bin/python benchmarks/service_abuse.py [--base REV]

``--base REV`` replays the same rows against another revision (a temporary git worktree) in the same
run; a row that takes more than ``ROW_TIMEOUT`` seconds there is cut and reported as such.
Targets per row: refused or served correctly, ≤ 2 s, API growth ≤ 100 MB, /healthz ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import string
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import numpy as np
import soundfile as sf

from _server import Server, request
from _worktree import worktree

ROOT = Path(__file__).resolve().parents[1]
ROW_TIMEOUT = 60
TARGET = {"seconds": 2.0, "growth_mb": 100.0, "healthz_ms": 50.0}


# ---------------------------------------------------------------- hostile inputs
def alias_bomb(levels: int = 6) -> str:
    """A 'billion laughs' song sheet: each line repeats the previous one ten times (the report's
    435-byte sheet; one more level needs ~25 GB on the old code, so the replay stops here)."""
    rows = ["  - &a0 [yo, yo, yo, yo, yo, yo, yo, yo, yo, yo]"]
    rows += [f"  - &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels + 1)]
    return "lines:\n" + "\n".join(rows)


def riff_wav(rate: int, channels: int, bits: int, frames: int, seed: int = 0) -> bytes:
    """A plain PCM WAV written by hand (soundfile refuses some of these rates), with real noise data."""
    data = np.random.default_rng(seed).integers(0, 256, frames * channels * bits // 8, dtype=np.uint8).tobytes()
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * block, block, bits)
    return (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
            + b"data" + struct.pack("<I", len(data)) + data)


def long_flac(path: Path, seconds: float = 590, rate: int = 96_000) -> None:
    """A small FLAC that is long at a high rate (a click track: mostly silence, compresses well)."""
    block = np.zeros((rate * 10, 2), np.float32)
    for i in range(0, len(block), rate // 2):
        block[i:i + 200] = 0.5
    with sf.SoundFile(path, "w", rate, 2, "PCM_16", format="FLAC") as f:
        for _ in range(int(seconds // 10)):
            f.write(block)


def flac_claiming(path: Path, rate: int, channels: int, frames: int) -> None:
    """A short FLAC whose STREAMINFO claims ``frames`` samples at ``rate`` × ``channels`` (what a
    decoder plans for before reading any audio)."""
    with sf.SoundFile(path, "w", min(rate, 655_350), channels, "PCM_16", format="FLAC") as f:
        f.write(np.zeros((4096, channels), np.float32))
    raw = bytearray(path.read_bytes())
    at = 8 + 10  # "fLaC", block header (4), then min/max block (4) and frame sizes (6)
    packed = int.from_bytes(raw[at:at + 8], "big")
    packed = (packed & ~((1 << 36) - 1)) | frames  # the low 36 bits are the total sample count
    raw[at:at + 8] = packed.to_bytes(8, "big")
    path.write_bytes(bytes(raw))


def multipart(fields: dict, file_name: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="instrumental"; filename="{file_name}"\r\n'
                 f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def chunked_post(base: str, path: str, chunks, content_type: str, timeout: float = ROW_TIMEOUT) -> int:
    """POST with Transfer-Encoding: chunked (no Content-Length); the status, or 0 if the server closed
    the connection on us (which also counts as refused)."""
    req = urllib.request.Request(base + path, data=chunks, method="POST",
                                 headers={"content-type": content_type, "transfer-encoding": "chunked"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


# ---------------------------------------------------------------- measuring a row
# Polls /healthz from its own process: a thread in this script would share the GIL with the row it
# measures and report the client's stalls as the server's. Prints one latency (ms) per line.
POLLER = r"""
import sys, time, urllib.request
url = sys.argv[1]
while True:
    t = time.perf_counter()
    try:
        urllib.request.urlopen(url, timeout=30).read()
    except OSError:
        pass
    print(round(time.time(), 3), round((time.perf_counter() - t) * 1000, 2), flush=True)
    time.sleep(0.05)
"""


class Watch:
    """Peak RSS growth of the API process and the slowest /healthz while a row runs."""

    def __init__(self, server: Server):
        self.server, self.pid = server, server.proc.pid

    def _status(self, field: str) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1]) / 1024
        return 0.0

    def __enter__(self):
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        self.rss0 = self._status("VmRSS:")
        self.poller = subprocess.Popen([sys.executable, "-c", POLLER, self.server.base + "/healthz"],
                                       stdout=subprocess.PIPE, text=True)
        time.sleep(0.3)  # let the poller start before the row does
        self.t0, self.wall0 = time.perf_counter(), time.time()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
        self.poller.terminate()
        out, _ = self.poller.communicate()
        polls = [(float(t) - self.wall0, float(ms)) for t, ms in (line.split() for line in out.splitlines())]
        self.worst = max((ms for _, ms in polls), default=0.0)
        self.p99 = float(np.percentile([ms for _, ms in polls], 99)) if polls else 0.0
        self.polls = len(polls)
        self.spikes = [[round(t, 2), ms] for t, ms in sorted(polls, key=lambda p: -p[1])[:3] if ms > TARGET["healthz_ms"]]
        self.growth = self._status("VmHWM:") - self.rss0


def run_row(server: Server, name: str, fn) -> dict:
    with Watch(server) as w:
        try:
            result = fn(server)
        except Exception as e:  # the row itself broke (a timeout on the old revision, say)
            result = {"ok": False, "note": f"{type(e).__name__}: {str(e)[:80]}"}
    answer = result.pop("answer_seconds", w.seconds)  # rows that also wait for a render time the answer
    row = {"row": name, **result, "answer_seconds": round(answer, 2), "row_seconds": round(w.seconds, 2),
           "api_growth_mb": round(w.growth, 1), "healthz_max_ms": round(w.worst, 1), "healthz_p99_ms": round(w.p99, 1),
           "healthz_polls": w.polls,
           **({"healthz_spikes_at_s_ms": w.spikes} if w.spikes else {})}
    row["pass"] = bool(row.get("ok")) and answer <= TARGET["seconds"] and w.growth <= TARGET["growth_mb"] \
        and w.worst <= TARGET["healthz_ms"]
    print(json.dumps(row), file=sys.stderr)
    return row


def post(server, path, body, headers=None, timeout=ROW_TIMEOUT):
    return request(server.base + path, body, headers=headers, method="POST", timeout=timeout)


def refused(status: int) -> bool:
    return 400 <= status < 500 or status == 0


# ---------------------------------------------------------------- the rows (open server, no keys)
def row_alias_bomb(s):
    codes = [post(s, route, {"lyrics": alias_bomb()})[0] for route in ("/v1/analyze", "/v1/jobs")]
    return {"status": codes, "ok": all(refused(c) for c in codes)}


def row_prime_rate_wav(s):
    body, ctype = multipart({"lyrics": "yo yo yo"}, "a.wav", riff_wav(3_000_017, 1, 8, 18_000_000))
    code, _ = post(s, "/v1/jobs", body, {"content-type": ctype})
    return {"status": code, "upload_mb": round(len(body) / 2**20, 1), "ok": refused(code)}


def row_long_flac(s, path):
    """Ten minutes at 96 kHz stereo is within the caps: accepted, then decoded in the worker in blocks
    and rendered (served correctly), while the API stays small and quick."""
    body, ctype = multipart({"lyrics": "yo yo yo", "bpm": "120"}, "a.flac", path.read_bytes())
    t = time.perf_counter()
    code, answer = post(s, "/v1/jobs", body, {"content-type": ctype})
    answered = time.perf_counter() - t
    job = s.wait_job(json.loads(answer)["id"]) if code == 202 else {}
    return {"status": code, "upload_kb": round(len(body) / 1024), "job": job.get("status"),
            "render_seconds": round(time.perf_counter() - t, 1), "answer_seconds": answered,
            "ok": (code == 202 and job.get("status") == "done") or refused(code)}


def row_claimed_flac(s, path):
    body, ctype = multipart({"lyrics": "yo yo yo"}, "a.flac", path.read_bytes())
    code, _ = post(s, "/v1/jobs", body, {"content-type": ctype})
    return {"status": code, "upload_kb": round(len(body) / 1024), "ok": refused(code)}


def row_rotating_keys(s):
    """No keys configured: the X-API-Key header is not an identity, the address is."""
    codes = [post(s, "/v1/analyze", {"lyrics": f"yo {k}"},
                  {"x-api-key": "".join(random.choices(string.ascii_letters, k=12))})[0] for k in range(260)]
    return {"accepted": sum(c == 200 for c in codes), "limited": sum(c == 429 for c in codes),
            "ok": 429 in codes and codes.count(200) <= 240}


def row_previews(s):
    with_threads = []
    codes: list[int] = []
    queued_before = json.loads(request(s.base + "/readyz")[1])["queued"]
    for name in ("rose", "mike", "xi"):
        t = threading.Thread(target=lambda n=name: codes.append(request(f"{s.base}/v1/voices/{n}/preview")[0]))
        t.start()
        with_threads.append(t)
    for t in with_threads:
        t.join()
    queued_after = json.loads(request(s.base + "/readyz")[1])["queued"]
    return {"status": sorted(codes), "queue": [queued_before, queued_after],
            "ok": all(c in (200, 503) for c in codes) and queued_after <= queued_before + 3}


def row_chunked_json(s):
    def chunks():
        for _ in range(1600):  # 100 MB
            yield b" " * 65536

    code = chunked_post(s.base, "/v1/jobs", chunks(), "application/json")
    return {"status": code, "ok": refused(code)}


def row_chunked_upload(s):
    boundary = uuid.uuid4().hex

    def chunks():
        yield (f'--{boundary}\r\nContent-Disposition: form-data; name="instrumental"; filename="a.wav"\r\n'
               f"Content-Type: audio/wav\r\n\r\n").encode()
        for _ in range(960):  # 60 MB
            yield b"\0" * 65536

    code = chunked_post(s.base, "/v1/jobs", chunks(), f"multipart/form-data; boundary={boundary}")
    return {"status": code, "ok": refused(code)}


def row_unhandled(s):
    bodies = [{"lyrics": "lines:\n1:\n"}, {"lyrics": "lines:\n  - " + "9" * 320}, {"lyrics": "beat: [a]\nlines: [yo]"},
              {"lyrics": "flow: [a]\nlines: [yo]"}]
    codes = [post(s, route, b)[0] for b in bodies for route in ("/v1/analyze", "/v1/jobs")]
    deep = ("[" * 100_000 + "]" * 100_000).encode()
    codes += [post(s, route, deep, {"content-type": "application/json"})[0] for route in ("/v1/analyze", "/v1/jobs")]
    return {"status": codes, "ok": all(refused(c) for c in codes)}


def row_workers_env(s):
    capacity = json.loads(request(s.base + "/readyz")[1]).get("capacity")
    return {"capacity": capacity, "ok": capacity == 1}


def row_lrc_and_expiry(s, ttl: float):
    """A sheet title with a newline must not add LRC lines; a result is gone as soon as its TTL ends."""
    t = time.perf_counter()
    code, body = post(s, "/v1/jobs", {"lyrics": 'title: "mine\\n[ar:injected]"\nlines: ["yo \\u001b[31m yo"]',
                                      "engine": "fast"})
    answered = time.perf_counter() - t
    job = s.wait_job(json.loads(body)["id"])
    lrc = request(s.base + job["files"]["lyrics.lrc"])[1].decode() if job.get("status") == "done" else ""
    injected = any(line.startswith("[ar:") for line in lrc.splitlines()) or "\x1b" in lrc
    left = ttl - (time.time() - job_finished(s, job))
    time.sleep(max(0.0, left) + 1.0)
    gone = request(f"{s.base}/v1/jobs/{job['id']}")[0] == 404
    return {"status": code, "lrc_injected": injected, "expired_on_time": gone, "ok": not injected and gone,
            "answer_seconds": answered}


def job_finished(s, job) -> float:
    meta = s.jobs_dir / job["id"] / "job.json"
    return json.loads(meta.read_text()).get("finished") or time.time()


# ---------------------------------------------------------------- keyed server
def row_keyed(s):
    """One bucket per key; a random key is refused; another key cannot read or reuse a job; links are
    signed for the page's <audio>."""
    ka, kb = {"x-api-key": "key-a"}, {"x-api-key": "key-b"}
    random_key = [post(s, "/v1/analyze", {"lyrics": "yo"}, {"x-api-key": uuid.uuid4().hex})[0] for _ in range(20)]
    a = [post(s, "/v1/jobs", {"lyrics": f"yo {k}", "engine": "fast"}, ka)[0] for k in range(7)]
    b = post(s, "/v1/jobs", {"lyrics": "yo 0", "engine": "fast"}, kb)
    first = json.loads(post(s, "/v1/jobs", {"lyrics": "yo 0", "engine": "fast"}, ka)[1]) if 429 in a else {}
    return {"random_keys": sorted(set(random_key)), "key_a": a, "key_b": b[0],
            "ok": set(random_key) == {401} and a.count(202) == 5 and a[-1] == 429 and b[0] == 202,
            "note": "5 jobs a minute per key", **({"first": first} if first else {})}


def row_ownership(s):
    ka, kb = {"x-api-key": "key-c"}, {"x-api-key": "key-b"}  # key-a spent its minute in row 3b
    lyrics = {"lyrics": "Run it back, run it back", "engine": "fast", "seed": 9}
    t = time.perf_counter()
    job_a = json.loads(post(s, "/v1/jobs", lyrics, ka)[1])["id"]
    answered = time.perf_counter() - t
    done = wait_keyed(s, job_a, ka)
    other_read = request(f"{s.base}/v1/jobs/{job_a}", headers=kb)[0]
    unsigned = request(f"{s.base}/v1/jobs/{job_a}/files/mix.mp3")[0]
    signed = request(s.base + done["files"]["mix.mp3"])[0] if done.get("files") else 0
    again = json.loads(post(s, "/v1/jobs", lyrics, kb)[1])
    return {"other_key_reads": other_read, "unsigned_file": unsigned, "signed_file": signed,
            "resubmit_by_other": {"cached": again.get("cached"), "same_id": again.get("id") == job_a},
            "ok": other_read == 404 and unsigned == 401 and signed == 200 and again.get("id") != job_a,
            "answer_seconds": answered}


def wait_keyed(s, job_id, headers, timeout=120):
    t0 = time.time()
    while time.time() - t0 < timeout:
        job = json.loads(request(f"{s.base}/v1/jobs/{job_id}", headers=headers)[1])
        if job.get("status") in ("done", "failed"):
            return job
        time.sleep(0.25)
    return {}


def row_key_timing(s):
    """Wrong keys that share a long prefix with the right one vs none: the median answer times should
    not differ beyond noise (constant-time comparison)."""
    def median(key):
        times = []
        for _ in range(200):
            t = time.perf_counter()
            request(f"{s.base}/v1/beats", headers={"x-api-key": key})
            times.append(time.perf_counter() - t)
        return float(np.median(times)) * 1e6

    near, far = median("key-a" + "x"), median("zzzzzz")
    return {"median_us_near": round(near), "median_us_far": round(far), "ok": True}


# ---------------------------------------------------------------- CLI rows (no server needed)
def cli_rows(tmp: Path, src: Path) -> list[dict]:
    env = dict(os.environ, PYTHONPATH=str(src))
    fifo = tmp / "pipe"
    if not fifo.exists():
        os.mkfifo(fifo)
    big = tmp / "big.txt"
    with open(big, "wb") as f:
        f.truncate(200 * 2**20)
    rows = []
    for name, args in (("11a FIFO as --instrumental", ["render", "--text", "yo", "--instrumental", str(fifo)]),
                       ("11b FIFO as lyrics", ["render", str(fifo)]),
                       ("11c 200 MB lyrics file", ["render", str(big)]),
                       ("11d control characters in a message", ["render", "--text", "yo yo",
                                                                "--voice", "ro\x1b[2J\x07se"])):
        t = time.perf_counter()
        try:
            r = subprocess.run([sys.executable, "-m", "airap.cli", *args, "--out", str(tmp / "o")], env=env,
                               capture_output=True, text=True, timeout=20)
            code, err = r.returncode, r.stderr
        except subprocess.TimeoutExpired:
            code, err = None, "timed out (hung)"
        seconds = time.perf_counter() - t
        ok = code == 2 and "Traceback" not in err and "\x1b" not in err and len(err.strip().splitlines()) == 1
        rows.append({"row": name, "exit": code, "stderr": err.strip()[:100], "seconds": round(seconds, 2),
                     "pass": ok and seconds <= 10})  # a fresh interpreter imports numpy/librosa: seconds, not ms
        print(json.dumps(rows[-1]), file=sys.stderr)
    return rows


# ---------------------------------------------------------------- driver
def replay(src: Path, tmp: Path) -> dict:
    flac = tmp / "long.flac"
    if not flac.exists():
        long_flac(flac)
    claimed = tmp / "claimed.flac"
    flac_claiming(claimed, 655_350, 8, 375_000_000)
    ttl = 15.0
    rows = []
    open_server = Server(tmp / "jobs-open", workers=None, src=src,
                         env={"AIRAP_WORKERS": "1", "AIRAP_ANALYZE_RATE_LIMIT": "240", "AIRAP_RESULT_TTL": str(ttl)})
    open_server.start()
    try:
        for name, fn in (("1 YAML alias bomb (analyze, jobs)", row_alias_bomb),
                         ("2a 18 MB WAV at 3,000,017 Hz", row_prime_rate_wav),
                         ("2b small FLAC, 590 s at 96 kHz stereo", lambda s: row_long_flac(s, flac)),
                         ("2c FLAC claiming 8 ch x 655,350 Hz x 375 M frames", lambda s: row_claimed_flac(s, claimed)),
                         ("4 three concurrent voice previews", row_previews),
                         ("5a 100 MB chunked JSON", row_chunked_json),
                         ("5b 60 MB chunked upload", row_chunked_upload),
                         ("6 sheets and bodies that raised", row_unhandled),
                         ("7 AIRAP_WORKERS=1", row_workers_env),
                         ("3a rotating X-API-Key, no keys configured", row_rotating_keys),
                         ("12+13 LRC title injection, expiry on time", lambda s: row_lrc_and_expiry(s, ttl))):
            rows.append(run_row(open_server, name, fn))
    finally:
        open_server.stop()
    keyed = Server(tmp / "jobs-keyed", workers=1, src=src,
                   env={"AIRAP_API_KEY": "key-a,key-b,key-c", "AIRAP_RATE_LIMIT": "5"})
    keyed.start()
    try:
        for name, fn in (("3b keys: one bucket each, random keys refused", row_keyed),
                         ("8+10 ownership and signed links", row_ownership),
                         ("9 key comparison timing", row_key_timing)):
            rows.append(run_row(keyed, name, fn))
    finally:
        keyed.stop()
    rows += cli_rows(tmp, src)
    return {"rows": rows, "passed": sum(r["pass"] for r in rows), "total": len(rows)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default=None, help="a revision to replay the same rows against (before #17)")
    a = ap.parse_args()
    out = {"command": " ".join(["benchmarks/service_abuse.py"] + sys.argv[1:]), "targets": TARGET}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "work").mkdir()
        out["work"] = replay(ROOT / "src", tmp / "work")
        if a.base:
            with worktree(a.base, tmp / "base") as base:
                (tmp / "base-run").mkdir()
                out["base"] = {"rev": a.base, **replay(base / "src", tmp / "base-run")}
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
