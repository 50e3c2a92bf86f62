"""Stage 1 — text front-end. Entry point: :func:`parse_lyrics` (lyrics text or YAML sheet -> Song).

May import: nothing else from airap (it is the first stage).
"""

from __future__ import annotations

import re
from typing import NamedTuple

import yaml

from ..errors import InputError
from . import english, mandarin
from .normalize import HAN, has_han, normalize
from .types import Line, Song, Syllable, Word

__all__ = ["parse_lyrics", "analyze_line", "Song", "Line", "Word", "Syllable"]

MAX_LINES = 200
MAX_LINE_CHARS = 400
MAX_SYLLABLES_PER_LINE = 96
MAX_CREW = 4  # voices singing one line in unison (a crew hook); more is mud, and each one costs a render
SECTION_RE = re.compile(r"^\s*\[([A-Za-z0-9 _-]{1,32})\]\s*$")
SHEET_KEYS = {"title", "bpm", "beat", "voice", "flow", "sections", "lines", "lang"}


def analyze_line(text: str, lang: str = "auto", section: str = "verse", flow: str | None = None,
                 voice: str | None = None, crew: tuple[str, ...] = ()) -> tuple[Line | None, list[str]]:
    """One lyric line -> Line (None if nothing voiceable is left) and warnings."""
    warnings: list[str] = []
    spoken, dropped = normalize(text)
    if dropped:
        warnings.append(f"dropped characters that cannot be voiced: {' '.join(sorted(set(dropped)))!s} "
                        f"in line {text.strip()[:40]!r}")
    if lang == "en" and has_han(spoken):
        warnings.append(f"--lang en but line has Chinese characters; reading them in Mandarin: {text[:40]!r}")
    words: list[Word] = []
    for chunk in re.split(f"([{HAN}]+)", spoken):
        if not chunk.strip():
            continue
        if has_han(chunk):
            words.extend(mandarin.words(chunk))
            continue
        for token in re.findall(r"[A-Za-z][A-Za-z']*", chunk):
            sylls = english.word_syllables(token)
            if sylls:
                words.append(Word(text=token, lang="en", syllables=tuple(sylls)))
    if not words:
        return None, warnings
    n = sum(len(w.syllables) for w in words)
    if n > MAX_SYLLABLES_PER_LINE:
        raise InputError(f"line has {n} syllables (max {MAX_SYLLABLES_PER_LINE}); split it: {text[:40]!r}...")
    return Line(text=text.strip(), words=tuple(words), section=section, flow=flow, voice=voice, crew=crew), warnings


def _plain_lines(text: str) -> list[tuple[str, str]]:
    section = "verse"
    out = []
    for raw in text.splitlines():
        m = SECTION_RE.match(raw)
        if m:
            section = m.group(1).strip().lower()
        elif raw.strip():
            out.append((section, raw))
    return out


class SheetRow(NamedTuple):
    section: str
    text: str
    flow: str | None
    voice: str | None
    crew: tuple[str, ...] = ()


def _name(value, what: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise InputError(f"song sheet: {what} must be a name, got {type(value).__name__}")


def _voices(value) -> tuple[str | None, tuple[str, ...]]:
    """``voice: rose`` -> (rose, ()); ``voice: [rose, mike, jian]`` -> a crew: rose leads, the others
    sing the same line in unison."""
    if isinstance(value, list):
        names = [_name(v, "each voice of a crew") for v in value]
        if not names or len(names) > MAX_CREW:
            raise InputError(f"song sheet: a crew has 1 to {MAX_CREW} voices, got {len(names)}")
        return names[0], tuple(names[1:])
    return _name(value, "'voice'"), ()


def _parse_sheet(data: dict) -> tuple[dict, list[SheetRow]]:
    unknown = set(data) - SHEET_KEYS
    if unknown:
        raise InputError(f"song sheet has unknown keys: {', '.join(sorted(map(str, unknown)))} "
                         f"(known: {', '.join(sorted(SHEET_KEYS))})")
    rows: list[SheetRow] = []
    if "lines" in data:
        data = {**data, "sections": [{"name": "verse", "lines": data["lines"]}]}
    sections = data.get("sections") or []
    if not isinstance(sections, list):
        raise InputError("song sheet: 'sections' must be a list")
    for sec in sections:
        if not isinstance(sec, dict) or not isinstance(sec.get("lines"), list):
            raise InputError("song sheet: each section needs a 'lines' list")
        name = str(sec.get("name", "verse")).lower()
        for item in sec["lines"]:
            item = item if isinstance(item, dict) else {"text": item}
            voice, crew = _voices(item.get("voice", sec.get("voice")))
            rows.append(SheetRow(name, str(item.get("text", "")), _name(item.get("flow", sec.get("flow")), "'flow'"),
                                 voice, crew))
    meta = {k: data.get(k) for k in ("title", "bpm", "beat", "voice", "flow", "lang")}
    for key in ("beat", "voice", "flow", "lang"):
        _name(meta[key], f"'{key}'")
    return meta, rows


def parse_lyrics(text: str, lang: str = "auto") -> Song:
    """Plain lyrics (optional ``[verse]``/``[hook]`` tags) or a YAML song sheet -> Song."""
    if lang not in ("auto", "en", "zh"):
        raise InputError(f"unknown language {lang!r}: use auto, en or zh")
    if not isinstance(text, str) or not text.strip():
        raise InputError("lyrics are empty: write at least one line")
    meta: dict = {}
    rows: list[SheetRow]
    stripped = text.lstrip()
    if re.match(r"^(title|bpm|beat|voice|flow|sections|lines|lang)\s*:", stripped):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise InputError(f"song sheet is not valid YAML: {str(e).splitlines()[0]}") from None
        if not isinstance(data, dict):
            raise InputError("song sheet must be a YAML mapping")
        meta, rows = _parse_sheet(data)
        lang = meta.get("lang") or lang
    else:
        rows = [SheetRow(sec, line, None, None) for sec, line in _plain_lines(text)]
    if len(rows) > MAX_LINES:
        raise InputError(f"lyrics have {len(rows)} lines (max {MAX_LINES}): split the song")
    song = Song(lines=[], title=str(meta.get("title") or "untitled"), bpm=meta.get("bpm"),
                beat=meta.get("beat"), voice=meta.get("voice"), flow=meta.get("flow"))
    for section, raw, flow, voice, crew in rows:
        if len(raw) > MAX_LINE_CHARS:
            raise InputError(f"a line has {len(raw)} characters (max {MAX_LINE_CHARS}): {raw[:40]!r}...")
        line, warns = analyze_line(raw, lang, section, flow, voice, crew)
        song.warnings.extend(warns)
        if line is not None:
            song.lines.append(line)
    if not song.lines:
        raise InputError("nothing to rap: the lyrics have no letters or Chinese characters that can be voiced")
    return song
