"""YAML song sheets -> rows, read by a loader bounded for untrusted input.

A sheet arrives over HTTP, so the loader refuses what can make a small text expensive: anchors and
aliases (a 435-byte "billion laughs" sheet expanded to 2.5 GB in the API), deep nesting and huge node
counts; the bounds sit far above any real sheet (a 200-line sheet with voices and flows per line is
~1,000 nodes, depth 5).
"""

from __future__ import annotations

import re
from typing import NamedTuple

import yaml

from ..errors import InputError
from .notes import MIDI_SUFFIXES, parse_notes

SHEET_KEYS = {"title", "bpm", "beat", "voice", "flow", "sections", "lines", "lang", "machine_written"}
SHEET_START_RE = re.compile(r"^(title|bpm|beat|voice|flow|sections|lines|lang|machine_written)\s*:")
MAX_SHEET_NODES = 5_000
MAX_SHEET_DEPTH = 8
MAX_TITLE_CHARS = 100
MAX_CREW = 4  # voices singing one line in unison (a crew hook); more is mud, and each one costs a render


class SheetRow(NamedTuple):
    section: str
    text: str
    flow: str | None
    voice: str | None
    crew: tuple[str, ...] = ()
    adlibs: str | None = None  # off | light | heavy (None: the section kind's default)
    double: bool | None = None  # a doubled take under the lead (None: the section kind's default)
    sing: bool = False  # sung on notes instead of rapped
    notes: tuple[int, ...] | None = None  # MIDI note per syllable (None with sing: composed)
    harmony: str | None = None  # third | sixth: a second part above the sung line
    melody: tuple[int, ...] | None = None  # the section's notes, shared out over its lines' syllables
    block: int = 0  # which section of the sheet the row came from


ADLIB_LEVELS = ("off", "light", "heavy")


def _adlibs(value) -> str | None:
    if value is None:
        return None
    if value is False:  # YAML reads a bare `off` as false
        return "off"
    text = str(value).strip().lower()
    if text not in ADLIB_LEVELS:
        raise InputError(f"song sheet: adlibs must be one of {', '.join(ADLIB_LEVELS)}, got {text[:20]!r}")
    return text


def _flag(value, key: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise InputError(f"song sheet: {key} must be true or false, got {str(value)[:20]!r}")


HARMONIES = ("third", "sixth")


def _harmony(value) -> str | None:
    if value is None or value is False:
        return None
    text = str(value).strip().lower()
    if text not in HARMONIES:
        raise InputError(f"song sheet: harmony must be one of {', '.join(HARMONIES)}, got {text[:20]!r}")
    return text


def _melody(value) -> tuple[int, ...] | None:
    """A section's ``melody``: note names, or a MIDI file (which the CLI reads and inlines first)."""
    if isinstance(value, str) and value.strip().lower().endswith(MIDI_SUFFIXES):
        raise InputError(f"song sheet: the melody file {value.strip()[-60:]!r} can only be read by `airap render` "
                         "from the sheet's folder; elsewhere give the notes (melody: \"E4 G4 ...\")")
    return _notes(value)


def _notes(value) -> tuple[int, ...] | None:
    if value is None:
        return None
    if isinstance(value, list):
        value = " ".join(map(str, value))
    return parse_notes(_scalar_text(value, "'notes'"))


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors/aliases and bounds nodes and depth while composing, before
    anything is built."""

    def __init__(self, stream):
        super().__init__(stream)
        self._nodes = 0
        self._depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise InputError("song sheet: YAML anchors and aliases (&name, *name) are not allowed")
        self._nodes += 1
        if self._nodes > MAX_SHEET_NODES:
            raise InputError(f"song sheet has more than {MAX_SHEET_NODES} YAML nodes")
        self._depth += 1
        try:
            if self._depth > MAX_SHEET_DEPTH:
                raise InputError(f"song sheet is nested more than {MAX_SHEET_DEPTH} levels deep")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def is_sheet(text: str) -> bool:
    return bool(SHEET_START_RE.match(text.lstrip()))


def load_sheet(text: str) -> dict:
    loader = None
    try:
        loader = _BoundedLoader(text)  # the reader refuses control characters already here
        data = loader.get_single_data()
    except InputError:
        raise
    except yaml.YAMLError as e:
        raise InputError(f"song sheet is not valid YAML: {str(e).splitlines()[0]}") from None
    except Exception:  # PyYAML's constructors raise what they like on odd scalars: ValueError for an
        # integer of 5,000 digits, AttributeError for some "!!timestamp" values
        raise InputError("song sheet has a value that cannot be read (an odd number, date or tag?)") from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, dict):
        raise InputError("song sheet must be a YAML mapping")
    return data


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


def _scalar_text(value, what: str) -> str:
    if isinstance(value, (dict, list)):
        raise InputError(f"song sheet: {what} must be text, got {type(value).__name__}")
    return "" if value is None else str(value)


def one_line(text: str, limit: int) -> str:
    """A field that ends up on one line of a file (LRC tag, ID3 frame): control characters and
    line breaks become spaces."""
    return re.sub(r"\s+", " ", "".join(" " if not ch.isprintable() else ch for ch in text)).strip()[:limit]


def parse_sheet(data: dict) -> tuple[dict, list[SheetRow]]:
    """A loaded sheet -> (song-level settings, one row per line)."""
    unknown = set(data) - SHEET_KEYS
    if unknown:
        raise InputError(f"song sheet has unknown keys: {', '.join(sorted(map(repr, unknown)))[:200]} "
                         f"(known: {', '.join(sorted(SHEET_KEYS))})")
    rows: list[SheetRow] = []
    if "lines" in data:
        data = {**data, "sections": [{"name": "verse", "lines": data["lines"]}]}
    sections = data.get("sections") or []
    if not isinstance(sections, list):
        raise InputError("song sheet: 'sections' must be a list")
    warnings: list[str] = []
    for block, sec in enumerate(sections):
        if not isinstance(sec, dict) or not isinstance(sec.get("lines") or [], list):
            raise InputError("song sheet: each section needs a 'lines' list")
        name = one_line(_scalar_text(sec.get("name", "verse"), "a section's 'name'"), 32).lower() or "verse"
        if not sec.get("lines"):
            warnings.append(f"section {name!r} has no lines: skipped")
            continue
        melody = _melody(sec.get("melody"))
        for item in sec["lines"]:
            item = item if isinstance(item, dict) else {"text": item}
            voice, crew = _voices(item.get("voice", sec.get("voice")))
            rows.append(SheetRow(name, _scalar_text(item.get("text", ""), "a line's 'text'"),
                                 _name(item.get("flow", sec.get("flow")), "'flow'"), voice, crew,
                                 _adlibs(item.get("adlibs", sec.get("adlibs"))),
                                 _flag(item.get("double", sec.get("double")), "double"),
                                 bool(_flag(item.get("sing", sec.get("sing")), "sing")) or "notes" in item
                                 or melody is not None,
                                 _notes(item.get("notes")),
                                 _harmony(item.get("harmony", sec.get("harmony"))), melody, block))
    meta = {k: data.get(k) for k in ("title", "bpm", "beat", "voice", "flow", "lang")}
    for key in ("beat", "voice", "flow", "lang"):
        _name(meta[key], f"'{key}'")
    meta["title"] = one_line(_scalar_text(meta["title"], "'title'"), MAX_TITLE_CHARS) or "untitled"
    _scalar_text(data.get("machine_written"), "'machine_written'")  # set by `airap write`: who drafted it
    meta["warnings"] = warnings
    meta["tagged"] = "sections" in data and "lines" not in data
    return meta, rows
