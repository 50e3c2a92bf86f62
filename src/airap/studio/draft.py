"""Drafting help: lyrics from an LLM the user runs or subscribes to (any OpenAI-compatible chat API),
checked line by line with the analysis and asked again for the lines that miss the rhyme scheme or the
flow, a bounded number of times. Nothing is called unless the user configures an endpoint:

    AIRAP_LLM_URL    e.g. http://localhost:8080/v1 (the /chat/completions route is appended)
    AIRAP_LLM_MODEL  the model name the endpoint expects
    AIRAP_LLM_KEY    optional bearer token
    AIRAP_LLM_TIMEOUT seconds per request (default 60)

The result is a song sheet marked as machine-written (``machine_written:``), so nobody mistakes it
for the user's own words.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass

from ..errors import AirapError, InputError, SetupError
from ..text import parse_lyrics
from .analysis import analyze_song

DEFAULT_ROUNDS = 3
MAX_LINES = 32
LLM_TIMEOUT = 60.0


@dataclass(frozen=True)
class Endpoint:
    url: str
    model: str
    key: str | None = None
    timeout: float = LLM_TIMEOUT

    @classmethod
    def from_env(cls) -> "Endpoint":
        url, model = os.environ.get("AIRAP_LLM_URL"), os.environ.get("AIRAP_LLM_MODEL")
        if not url or not model:
            raise SetupError("no LLM endpoint configured: set AIRAP_LLM_URL (an OpenAI-compatible API, e.g. "
                             "http://localhost:8080/v1) and AIRAP_LLM_MODEL (and AIRAP_LLM_KEY if it needs one)")
        try:
            timeout = float(os.environ.get("AIRAP_LLM_TIMEOUT") or LLM_TIMEOUT)
        except ValueError:
            raise SetupError("AIRAP_LLM_TIMEOUT must be a number of seconds") from None
        return cls(url.rstrip("/"), model, os.environ.get("AIRAP_LLM_KEY") or None, timeout)


@dataclass(frozen=True)
class Draft:
    lines: tuple[str, ...]
    scheme: str  # what the analysis reads in the final lines
    rounds: int  # requests made
    misses: tuple[int, ...]  # lines still off the scheme or the flow after the last round
    sheet: str  # the YAML song sheet, marked machine-written


def _chat(ep: Endpoint, prompt: str) -> str:
    body = json.dumps({"model": ep.model, "temperature": 0.8,
                       "messages": [{"role": "system", "content": "You write rap lyrics. Answer with the lyric "
                                     "lines only, one per line, no numbering, no commentary."},
                                    {"role": "user", "content": prompt}]}).encode()
    headers = {"content-type": "application/json", **({"authorization": f"Bearer {ep.key}"} if ep.key else {})}
    req = urllib.request.Request(ep.url + "/chat/completions", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=ep.timeout) as r:
            data = json.loads(r.read(2_000_000))
        return str(data["choices"][0]["message"]["content"])
    except (TimeoutError, OSError) as e:
        reason = getattr(e, "reason", e)
        if isinstance(e, urllib.error.HTTPError):
            raise AirapError(f"the LLM endpoint answered HTTP {e.code}") from None
        raise AirapError(f"the LLM endpoint did not answer ({type(reason).__name__}: {str(reason)[:80]})") from None
    except (ValueError, KeyError, IndexError, TypeError):
        raise AirapError("the LLM endpoint's answer is not an OpenAI-style chat completion") from None


def _lines(text: str) -> list[str]:
    out = []
    for raw in text.splitlines():
        line = re.sub(r"^\s*(\d+[.)]|[-*•])\s*", "", raw).strip().strip('"“”')
        if line and not re.match(r"^\[.*\]$", line):
            out.append(line)
    return out


def _off_lines(lines: list[str], scheme: str, flow: str | None, bpm: float | None, lang: str) -> tuple[str, list[int]]:
    """What the analysis reads, and the lines to ask for again: the later line of every pair whose
    rhyme relation differs from the scheme's, and lines that do not fit the flow."""
    analysis = analyze_song(parse_lyrics("\n".join(lines), lang), flow=flow, bpm=bpm)
    got = [ln.scheme for ln in analysis.lines]
    off = {j for i in range(len(lines)) for j in range(i + 1, len(lines))
           if (scheme[i] == scheme[j]) != (got[i] == got[j])}
    off |= {i for i, ln in enumerate(analysis.lines) if not ln.fits}
    return "".join(got), sorted(off)


def write(topic: str, n_lines: int = 8, scheme: str = "AABB", lang: str = "en", flow: str | None = None,
          bpm: float | None = None, rounds: int = DEFAULT_ROUNDS, endpoint: Endpoint | None = None) -> Draft:
    scheme = re.sub(r"\s+", "", scheme or "").upper()
    if not topic.strip():
        raise InputError("give a --topic to write about")
    if not 1 <= n_lines <= MAX_LINES:
        raise InputError(f"--lines must be 1 to {MAX_LINES}")
    if not re.fullmatch(r"[A-Z]+", scheme):
        raise InputError("--scheme is letters, e.g. AABB or ABAB")
    scheme = (scheme * n_lines)[:n_lines]
    if lang not in ("en", "zh"):
        raise InputError("--lang is en or zh")
    ep = endpoint or Endpoint.from_env()
    language = "English" if lang == "en" else "Mandarin Chinese (simplified characters)"
    prompt = (f"Write {n_lines} lines of rap in {language} about: {topic.strip()[:300]}. Rhyme scheme of the line "
              f"ends: {scheme} (lines with the same letter rhyme). Keep each line under 16 syllables.")
    lines = _lines(_chat(ep, prompt))[:n_lines]
    made = 1
    if len(lines) < n_lines:
        raise AirapError(f"the LLM wrote {len(lines)} usable lines, {n_lines} were asked for")
    got, off = _off_lines(lines, scheme, flow, bpm, lang)
    while off and made < rounds:
        numbered = "\n".join(f"{i + 1} [{scheme[i]}]: {ln}" for i, ln in enumerate(lines))
        ask = (f"These rap lines should follow the rhyme scheme {scheme} (same letter = the line ends rhyme) and "
               f"stay under 16 syllables:\n{numbered}\nRewrite only lines {', '.join(str(i + 1) for i in off)} so "
               f"they fit. Answer with exactly {len(off)} lines, in that order.")
        fixes = _lines(_chat(ep, ask))
        made += 1
        for i, new in zip(off, fixes):
            lines[i] = new
        got, off = _off_lines(lines, scheme, flow, bpm, lang)
    sheet = "\n".join([f"title: {json.dumps(topic.strip()[:100], ensure_ascii=False)}",
                       f"machine_written: {json.dumps(f'drafted by {ep.model} via airap write', ensure_ascii=False)}",
                       f"lang: {lang}", "lines:"] + [f"  - {json.dumps(ln, ensure_ascii=False)}" for ln in lines]) + "\n"
    parse_lyrics(sheet)  # the sheet must load as the user will load it
    return Draft(tuple(lines), got, made, tuple(off), sheet)
