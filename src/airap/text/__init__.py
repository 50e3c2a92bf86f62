"""Stage 1 — text front-end. Entry point: :func:`parse_lyrics` (lyrics text or YAML sheet -> Song).

May import: nothing else from airap (it is the first stage).
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..errors import InputError
from . import english, mandarin
from .normalize import HAN, has_han, normalize
from .sheet import MAX_CREW, SheetRow, is_sheet, load_sheet, one_line, parse_sheet
from .types import Line, Song, Syllable, Word

__all__ = ["parse_lyrics", "analyze_line", "warm_up", "Song", "Line", "Word", "Syllable", "MAX_CREW"]

MAX_LINES = 200
MAX_LINE_CHARS = 400
MAX_SYLLABLES_PER_LINE = 96
SECTION_RE = re.compile(r"^\s*\[([\w .-]{1,32})\]\s*$")


def warm_up() -> None:
    """Load what the front-end loads on first use (jieba's dictionary, the eSpeak fallback for words
    CMUdict lacks: ~1.5 s on this CPU), so that a long-lived renderer's first song does not pay it."""
    analyze_line("热身 warmupzzq", "zh")


def analyze_line(text: str, lang: str = "auto", section: str = "verse", **line_fields) -> tuple[Line | None, list[str]]:
    """One lyric line -> Line (None if nothing voiceable is left) and warnings. ``line_fields``: the
    sheet's per-line settings (:class:`Line`'s flow, voice, crew, adlibs, double, sing, notes, harmony)."""
    warnings: list[str] = []
    spoken, dropped = normalize(text)
    if dropped:
        shown = " ".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in sorted(set(dropped))[:20])
        warnings.append(f"dropped characters that cannot be voiced: {shown} in line {text.strip()[:40]!r}")
    if lang == "en" and has_han(spoken):
        warnings.append(f"--lang en but line has Chinese characters; reading them in Mandarin: {text[:40]!r}")
    words: list[Word] = []
    for chunk in re.split(f"([{HAN}]+)", spoken):
        if not chunk.strip():
            continue
        if has_han(chunk):
            words.extend(mandarin.words(chunk))
            continue
        for m in re.finditer(r"[A-Za-z][A-Za-z']*", chunk):
            token = m.group()
            sylls = english.word_syllables(token, english.is_letter_name(token, chunk[m.end():]))
            if sylls:
                words.append(Word(text=token, lang="en", syllables=tuple(sylls)))
    if not words:
        return None, warnings
    n = sum(len(w.syllables) for w in words)
    if n > MAX_SYLLABLES_PER_LINE:
        raise InputError(f"line has {n} syllables (max {MAX_SYLLABLES_PER_LINE}); split it: {text[:40]!r}...")
    notes = line_fields.get("notes")
    if notes is not None and len(notes) != n:
        raise InputError(f"line {one_line(text, 40)!r} has {n} syllables but {len(notes)} notes: give one note per "
                         "syllable")
    return Line(text=one_line(text, MAX_LINE_CHARS), words=tuple(words), section=section, **line_fields), warnings


def _plain_lines(text: str, warnings: list[str]) -> tuple[list[tuple[str, str]], bool]:
    """(section, line) rows of plain lyrics, and whether any ``[section]`` tag was given."""
    section, tagged, empty = "verse", False, None
    out = []
    for raw in text.splitlines():
        m = SECTION_RE.match(raw)
        if m:
            if empty is not None:
                warnings.append(f"section {empty!r} has no lines: skipped")
            section, tagged = m.group(1).strip().lower(), True
            empty = section
        elif raw.strip():
            out.append((section, raw))
            empty = None
    if empty is not None:
        warnings.append(f"section {empty!r} has no lines: skipped")
    return out, tagged


def parse_lyrics(text: str, lang: str = "auto") -> Song:
    """Plain lyrics (optional ``[verse]``/``[hook]`` tags) or a YAML song sheet -> Song."""
    if lang not in ("auto", "en", "zh"):
        raise InputError(f"unknown language {lang!r}: use auto, en or zh")
    if not isinstance(text, str) or not text.strip():
        raise InputError("lyrics are empty: write at least one line")
    meta: dict = {}
    rows: list[SheetRow]
    warnings: list[str] = []
    if is_sheet(text):
        meta, rows = parse_sheet(load_sheet(text))
        lang = meta.get("lang") or lang
        if lang not in ("auto", "en", "zh"):
            raise InputError(f"song sheet: unknown language {lang[:20]!r}: use auto, en or zh")
    else:
        plain, tagged = _plain_lines(text, warnings)
        rows = [SheetRow(sec, line, None, None) for sec, line in plain]
        meta = {"tagged": tagged}
    if len(rows) > MAX_LINES:
        raise InputError(f"lyrics have {len(rows)} lines (max {MAX_LINES}): split the song")
    song = Song(lines=[], title=meta.get("title") or "untitled", bpm=meta.get("bpm"),
                beat=meta.get("beat"), voice=meta.get("voice"), flow=meta.get("flow"),
                tagged=bool(meta.get("tagged")), warnings=warnings + meta.get("warnings", []))
    melody_used: dict[int, int] = {}
    for row in rows:
        raw = row.text
        if len(raw) > MAX_LINE_CHARS:
            raise InputError(f"a line has {len(raw)} characters (max {MAX_LINE_CHARS}): {raw[:40]!r}...")
        fields = row._asdict()
        del fields["text"], fields["section"], fields["melody"], fields["block"]
        line, warns = analyze_line(raw, lang, row.section, **fields)
        if line is not None and row.melody is not None:  # the section's melody, shared out in order
            used = melody_used.get(row.block, 0)
            line = replace(line, notes=row.melody[used:used + len(line.syllables)])
            melody_used[row.block] = used + len(line.syllables)
            if len(line.notes) < len(line.syllables):
                raise InputError(f"section {row.section!r}: its melody has {len(row.melody)} notes, fewer than its "
                                 f"lines' syllables (out of notes at {raw[:40]!r})")
        song.warnings.extend(warns)
        if line is not None:
            song.lines.append(line)
    for row in rows:
        if row.melody is not None and melody_used.get(row.block, 0) != len(row.melody):
            raise InputError(f"section {row.section!r}: its melody has {len(row.melody)} notes but its lines have "
                             f"{melody_used.get(row.block, 0)} syllables: give one note per syllable")
    if not song.lines:
        raise InputError("nothing to rap: the lyrics have no letters or Chinese characters that can be voiced")
    return song
