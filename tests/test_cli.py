"""Bad input through the real command line: one clear line, exit code 2, never a traceback."""

import os
import subprocess
import sys

import pytest

AIRAP = [sys.executable, "-m", "airap.cli"]


def run(*args, **kw):
    return subprocess.run(AIRAP + list(args), capture_output=True, text=True, timeout=120, **kw)


@pytest.mark.parametrize("args,needle", [
    (["render", "--text", ""], "empty"),
    (["render", "--text", "   "], "empty"),
    (["render", "--text", "🔥🔥😂"], "nothing to rap"),
    (["render", "--text", "yo", "--voice", "nobody"], "unknown voice"),
    (["render", "--text", "yo", "--voice", "mikee"], "did you mean mike"),
    (["render", "--text", "yo", "--voice", "rose", "--engine", "fast"], "not available"),
    (["render", "--text", "yo", "--beat", "polka"], "unknown beat style"),
    (["render", "--text", "yo", "--bpm", "0"], "BPM"),
    (["render", "--text", "yo", "--bpm", "1000"], "BPM"),
    (["render", "--text", "yo", "--bpm", "abc"], "BPM"),
    (["render", "--text", "yo", "--flow", "waltz"], "unknown flow"),
    (["render", "--text", "yo", "--intro-bars", "two"], "whole number"),
    (["render", "--text", "yo", "--intro-bars", "2"], "uploaded instrumental only"),
    (["render", "no-such-file.txt"], "not found"),
    (["render", "--text", "yo", "--reuse", "no-such-render"], "not a folder of an earlier render"),
])
def test_bad_input(args, needle):
    r = run(*args)
    assert r.returncode == 2
    assert needle in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_huge_lyrics(tmp_path):
    f = tmp_path / "huge.txt"
    f.write_text("yo this line repeats\n" * 20000)
    r = run("render", str(f), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "max" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_out_dir_nonroot(tmp_path):
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o500)
    r = run("render", "--text", "yo", "--out", str(d / "x"))
    assert r.returncode == 2 and "cannot write" in r.stderr


def test_unwritable_out_dir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("i am a file")
    r = run("render", "--text", "yo", "--out", str(blocker / "sub"))
    assert r.returncode == 2 and "cannot write" in r.stderr and "Traceback" not in r.stderr


def test_lists_as_json():
    import json

    voices = json.loads(run("voices", "--json").stdout)
    assert {"mike", "mei"} <= {v["name"] for v in voices} and len(voices) >= 16
    assert all({"name", "description", "languages", "tags", "preview"} <= set(v) for v in voices)
    assert {v["name"] for v in json.loads(run("voices", "--json", "--engine", "fast").stdout)} >= {"kumo", "duo"}
    beats = json.loads(run("beats", "--json").stdout)
    assert len(beats["beats"]) >= 4 and len(beats["flows"]) >= 5


def test_fifos_are_refused_not_read(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for args, needle in ((["render", str(fifo)], "regular file"),
                         (["render", "--text", "yo", "--instrumental", str(fifo)], "regular")):
        r = run(*args, "--out", str(tmp_path / "o"))  # would block forever if anything opened the FIFO
        assert r.returncode == 2 and needle in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("text", ["lines:\n  - " + "9" * 300, "lines:\n1:\n", "lines: &a [yo]\nx: *a",
                                  "lines: [yo \x1b[31m red]"])
def test_sheets_that_crashed_are_one_line_errors(text, tmp_path):
    r = run("render", "--text", text, "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.stderr and "\x1b" not in r.stderr
