"""At least 200 malformed requests against a real server: wrong types, huge bodies, broken uploads,
unicode oddities, injection-looking strings, bad ids and file names. Every one must get a 4xx with
a message, none a 5xx, and the server must stay up. Prints JSON.

    .venv/bin/python benchmarks/service_badinput.py
"""

import io
import json
import random
import tempfile
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import numpy as np
import soundfile as sf

from _server import Server, request

INJECTIONS = ["'; DROP TABLE jobs; --", "../../etc/passwd", "<script>alert(1)</script>", "${jndi:ldap://x/a}",
              "$(rm -rf /)", "%00", "\u0000", "{{7*7}}", "|| ls", "\\\\server\\share", "a" * 5000, "🔥" * 50,
              "\u202e\u202d", "\ufeff", "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace")]
# nothing voiceable, or over the limits ("©®™" or "𝕪𝕠" are NOT here: they normalise to speakable text)
ODD_LYRICS = ["", " ", "\n\n\n", "🔥🔥🔥", "\u200b\u200b", "\u0301\u0301", "....", "\u202e", "\x00\x01\x02",
              "x" * 25_000, "\n".join(["yo"] * 20_000), "🎤🎧", "¿¡", "\t\t"]
FIELDS = ["voice", "beat", "flow", "lang", "engine"]


def multipart(fields: dict, file_bytes: bytes | None, filename="up.mp3") -> tuple[bytes, str]:
    b = "----airapbench"
    out = io.BytesIO()
    for k, v in fields.items():
        out.write(f"--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n".encode())
    if file_bytes is not None:
        out.write(f"--{b}\r\nContent-Disposition: form-data; name=\"instrumental\"; filename=\"{filename}\"\r\n"
                  f"Content-Type: audio/mpeg\r\n\r\n".encode() + file_bytes + b"\r\n")
    out.write(f"--{b}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={b}"


def cases(rng: random.Random):
    json_h = {"content-type": "application/json"}
    # wrong types for every field
    for field, bad in [("lyrics", 5), ("lyrics", None), ("lyrics", ["a"]), ("lyrics", {"a": 1}), ("bpm", "fast"),
                       ("bpm", -5), ("bpm", 0), ("bpm", 1e9), ("bpm", [92]), ("seed", "x"), ("seed", -1), ("seed", 2**40),
                       ("seed", 1.5), ("lang", "fr"), ("lang", 3), ("engine", "gpt"), ("voice", 7), ("beat", []),
                       ("flow", {"x": 1})]:
        body = {"lyrics": "yo yo", field: bad}
        yield ("POST", "/v1/jobs", json.dumps(body).encode(), json_h)
    for text in ODD_LYRICS:
        yield ("POST", "/v1/jobs", json.dumps({"lyrics": text}).encode(), json_h)
    for field in FIELDS:
        for inj in INJECTIONS:
            yield ("POST", "/v1/jobs", json.dumps({"lyrics": "yo yo", field: inj}).encode(), json_h)
    for inj in INJECTIONS:  # lyrics that are nothing but symbols
        if not any(c.isalnum() for c in inj):
            yield ("POST", "/v1/jobs", json.dumps({"lyrics": inj}).encode(), json_h)
    # invalid JSON and wrong content types
    for raw in [b"{", b"[]", b"null", b"\"str\"", b"{\"lyrics\": }", b"\xff\xfe\x00", b"12", b"{}" * 1000]:
        yield ("POST", "/v1/jobs", raw, json_h)
    for ctype in ["text/plain", "application/xml", "image/png", ""]:
        yield ("POST", "/v1/jobs", b"lyrics=yo", {"content-type": ctype} if ctype else {})
    # huge bodies (declared and real)
    yield ("POST", "/v1/jobs", b"x" * 10, {"content-type": "application/json", "content-length": str(10**10)})
    yield ("POST", "/v1/jobs", json.dumps({"lyrics": "a " * 60_000}).encode(), json_h)
    # broken uploads
    sr = 22050
    silent = io.BytesIO()
    sf.write(silent, np.zeros(sr * 6, np.float32), sr, format="WAV")
    short = io.BytesIO()
    sf.write(short, (0.3 * np.random.default_rng(0).standard_normal(sr // 4)).astype(np.float32), sr, format="WAV")
    good_wav = io.BytesIO()
    sf.write(good_wav, (0.2 * np.random.default_rng(1).standard_normal(sr * 6)).astype(np.float32), sr, format="WAV")
    uploads = [b"", b"ID3" + bytes(rng.randrange(256) for _ in range(3000)), b"RIFF\x00\x00\x00\x00WAVEfmt ",
               silent.getvalue(), short.getvalue(), good_wav.getvalue()[:200], b"%PDF-1.4 not audio",
               bytes(rng.randrange(256) for _ in range(50_000)), b"fLaC" + b"\x00" * 100, b"OggS" + b"\x01" * 200]
    for data in uploads:
        body, ctype = multipart({"lyrics": "yo yo yo"}, data)
        yield ("POST", "/v1/jobs", body, {"content-type": ctype})
    for fields in [{"lyrics": ""}, {"lyrics": "yo", "bpm": "abc"}, {"lyrics": "yo", "voice": "../../x"}, {}]:
        body, ctype = multipart(fields, good_wav.getvalue())
        yield ("POST", "/v1/jobs", body, {"content-type": ctype})
    # bad ids and file names
    for jid in ["x", "0" * 32, "../../etc/passwd", "%2e%2e%2f%2e%2e%2fetc", "a" * 500, "'; DROP", "<script>", "%00", "🔥"]:
        q = quote(jid, safe="%/")
        yield ("GET", f"/v1/jobs/{q}", None, {})
        yield ("GET", f"/v1/jobs/{q}/files/mix.wav", None, {})
    for name in ["../job.json", "..%2fjob.json", "job.json", "/etc/passwd", "%2e%2e", "mix.wav%00.txt", "MIX.WAV"]:
        yield ("GET", f"/v1/jobs/{'0' * 32}/files/{quote(name, safe='%/')}", None, {})
    for path in ["/v1/voices/nobody/preview", "/v1/voices/..%2f..%2f/preview", "/v1/nothing", "/v1/jobs/x/y/z"]:
        yield ("GET", path, None, {})
    for method in ["PUT", "DELETE", "PATCH"]:
        yield (method, "/v1/jobs", b"{}", json_h)
    for _ in range(60):  # random garbage bodies
        n = rng.randrange(1, 3000)
        yield ("POST", "/v1/jobs", bytes(rng.randrange(256) for _ in range(n)), json_h)
    for text in ["yo", "", "🔥"]:
        yield ("POST", "/v1/analyze", json.dumps({"lyrics": text, "lang": "xx"}).encode(), json_h)


def main():
    rng = random.Random(0)
    counts, bad = Counter(), []
    with tempfile.TemporaryDirectory() as tmp:
        srv = Server(Path(tmp) / "jobs", workers=1).start()
        n = 0
        for method, path, body, headers in cases(rng):
            n += 1
            try:
                status, raw = request(srv.base + path, body, headers, method)
            except (OSError, ValueError) as e:
                status, raw = 0, str(e).encode()
            counts[status] += 1
            msg_ok = False
            try:
                msg_ok = bool(json.loads(raw)["error"]["message"])
            except (ValueError, KeyError, TypeError):
                pass
            if not (400 <= status < 500 and msg_ok):
                bad.append({"method": method, "path": path[:80], "body": (body or b"")[:80].decode("utf-8", "replace"),
                            "status": status, "answer": raw[:200].decode("utf-8", "replace")})
        alive = request(srv.base + "/healthz")[0] == 200
        srv.stop()
    print(json.dumps({"requests": n, "by_class": dict(counts), "not_clear_4xx": len(bad), "server_alive_after": alive,
                      "examples_not_4xx": bad[:10]}, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
