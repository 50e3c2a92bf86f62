"""Hypothesis strategies for untrusted input: lyrics, song sheets and HTTP bodies. Shared by the fuzz
tests (a few hundred examples in CI) and ``benchmarks/fuzz.py`` (tens of thousands)."""

from __future__ import annotations

import yaml
from hypothesis import strategies as st

from airap import catalog
from airap.text.sheet import SHEET_KEYS

WORDS = ["yo", "run", "it", "back", "money", "I'm", "rock'n'roll", "NASA", "CEO", "FBI", "mic", "beat",
         "我", "的", "了", "吗", "走", "钱", "说唱", "北京", "一二三", "零", "儿", "hey!", "—", "...", "’",
         "$5", "$1,000.99", "€3", "¥12", "50%", "3.14", "12:30", "9:05pm", "1/2/2020", "13/45/9999", "21st",
         "0.0.0", "1,2,3", "9" * 30, "1" * 400, "#1", "a@b", "R&B", "C++", "mp3", "MP3", "2G", "Ⅻ", "ｆｕｌｌ",
         "café", "naïve", "Ωmega", "🔥", "\u200b", "\x00", "\x1b[31m", "\ufeff", "\r", "\t", "[hook]", "[verse 2]",
         "[", "]", ":", "- ", "lines:", "&a", "*a", "!!python/object", "{", "}", "'", '"']
NAMES = list(catalog.VOICES)[:4] + list(catalog.STYLES)[:2] + list(catalog.FLOWS)[:2] + ["", "nope", "Rose"]

# any text, biased toward the characters the front-end treats specially
characters = st.characters(codec="utf-8") | st.sampled_from(list("中文的了吗走 \n\t\r$%&@#/,.!?;:'’-0123456789[]"))
raw_text = st.text(characters, max_size=300)
numbers = (st.integers(min_value=0, max_value=10**120).map(str)
           | st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str)
           | st.tuples(st.sampled_from("$€£¥"), st.integers(0, 10**40)).map(lambda t: f"{t[0]}{t[1]:,}"))
line = st.lists(st.sampled_from(WORDS) | numbers | st.text(characters, max_size=12), min_size=0,
                max_size=12).map(" ".join)
plain_lyrics = st.lists(line, min_size=0, max_size=8).map("\n".join)

scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
           | st.sampled_from(WORDS + NAMES) | st.text(characters, max_size=40))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.sampled_from(["text", "voice", "flow", "name", "lines", 1]) | scalars,
                                        inner, max_size=4),
                      max_leaves=20)
line_items = st.one_of(line, st.fixed_dictionaries({"text": line}, optional={"voice": values, "flow": values}), values)
sheet_dicts = st.fixed_dictionaries(
    {"lines": st.lists(line_items, max_size=6)},
    optional={k: values for k in sorted(SHEET_KEYS - {"lines"})})


def _dump(data) -> str:
    try:
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, ValueError):
        return "lines: [yo]"


odd_keys = st.integers() | st.booleans() | st.none() | st.floats(allow_nan=False) | st.text(max_size=6)
YAML_TAGS = ["!!python/object:os.system", "!!binary aGk=", "!!set {a, b}", "!!timestamp 2001-12-14", "!!float .nan",
             "!!int 0x" + "f" * 40, "&x yo", "*x", "? [a]\n: b", "<<: {a: 1}", "|\n  multi\n  line", "{{", "]"]
sheets = (sheet_dicts.map(_dump)
          | st.tuples(sheet_dicts, st.dictionaries(odd_keys, values, min_size=1, max_size=2)).map(
              lambda t: _dump({**t[0], **t[1]}))
          | st.tuples(st.sampled_from(sorted(SHEET_KEYS)), raw_text).map(lambda kv: f"{kv[0]}:{kv[1]}")
          | st.tuples(st.sampled_from(sorted(SHEET_KEYS)),
                      st.lists(st.sampled_from(YAML_TAGS), min_size=1, max_size=3)).map(
              lambda kv: f"{kv[0]}: {' '.join(kv[1])}\nlines: [yo]"))
lyrics = raw_text | plain_lyrics | sheets

# HTTP: JSON bodies for /v1/jobs and /v1/analyze (well-formed JSON, any shape and values)
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats()
                           | st.text(characters, max_size=40) | st.sampled_from(NAMES),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                     max_size=3),
                           max_leaves=10)
job_fields = ["lyrics", "voice", "beat", "bpm", "flow", "seed", "lang", "engine"]
job_bodies = (st.fixed_dictionaries({"lyrics": lyrics}, optional={k: json_values | st.sampled_from(NAMES)
                                                                   for k in job_fields[1:]})
              | st.dictionaries(st.sampled_from(job_fields) | st.text(max_size=8), json_values, max_size=6)
              | json_values)
