"""Rhyme suggestions: common words that rhyme with a word (English) or a Mandarin syllable/word.

The index is the 50,000 most frequent words of each language from ``wordfreq`` (MIT code, CC-BY-SA
data), pronounced by the same front-end the analysis uses (CMUdict for English; pypinyin in context
for Mandarin), built once per process. Order: perfect rhymes, then multisyllabic (two or more vowels
matching), then slant; inside each kind, common before rare.
"""

from __future__ import annotations

import functools
import re
from dataclasses import asdict, dataclass, field

from ..errors import InputError
from .rhyme import ZH_BODY, ZH_CLASS_OF, ZH_COARSE, RhymeUnit, en_unit, tail_vowels, zh_final

INDEX_WORDS = 50_000  # "common" in the sense: the top 50k by frequency
MAX_SUGGESTIONS = 20
KIND_ORDER = {"perfect": 0, "multi": 1, "slant": 2}


@dataclass(frozen=True)
class Suggestion:
    text: str
    kind: str  # perfect | multi | slant
    syllables: int


@dataclass(frozen=True)
class Suggestions:
    word: str
    lang: str
    rhyme: str  # the readable ending the suggestions rhyme with
    rhymes: tuple[Suggestion, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Entry:
    rank: int
    text: str
    unit: RhymeUnit
    vowels: tuple[str, ...]  # the tail's vowels (EN exact nuclei; ZH vowel + nasal per syllable, last two)
    syllables: int


@functools.lru_cache(maxsize=1)
def en_index() -> tuple[_Entry, ...]:
    from wordfreq import top_n_list

    from ..text import english

    lex = english._cmudict()
    out = []
    for rank, word in enumerate(top_n_list("en", INDEX_WORDS)):
        if not re.fullmatch(r"[a-z][a-z']*", word) or word not in lex:
            continue
        sylls = english.word_syllables(word)
        unit = en_unit(word, tuple(sylls))
        if unit is not None:
            out.append(_Entry(rank, word, unit, tail_vowels(unit.key), len(sylls)))
    return tuple(out)


@functools.lru_cache(maxsize=1)
def zh_index() -> tuple[_Entry, ...]:
    from pypinyin import Style, lazy_pinyin
    from wordfreq import top_n_list

    out = []
    for rank, word in enumerate(top_n_list("zh", INDEX_WORDS)):
        if not re.fullmatch(r"[\u4e00-\u9fff]+", word):
            continue
        pys = lazy_pinyin(word, style=Style.TONE3, neutral_tone_with_five=True)
        out.append(_zh_entry(rank, word, pys))
    return tuple(out)


def _zh_entry(rank: int, word: str, pys: list[str]) -> _Entry:
    k = len(pys) - 1
    if pys[k].endswith("5") and k > 0:  # 的/了/吗 endings rhyme on the syllable before
        k -= 1
    finals = [zh_final(p) for p in pys[: k + 1]]
    body = ZH_BODY.get(finals[-1], finals[-1])
    vowels = tuple("".join(ZH_COARSE.get(ZH_BODY.get(f, f), (f, ""))) for f in finals[-2:])
    unit = RhymeUnit("zh", body, ZH_COARSE.get(body, (body, ""))[0], ZH_COARSE.get(body, ("", ""))[1], "-" + body,
                     int(pys[k][-1]) if pys[k][-1].isdigit() else 5, ZH_CLASS_OF["shisan"].get(finals[-1], ""))
    return _Entry(rank, word, unit, vowels, len(pys))


def _kind(query: _Entry, cand: _Entry) -> str | None:
    """perfect: the same rhyme tail (EN) or rhyme body (ZH); multi: the last two vowels match too (a
    Mandarin 双押 on top of a perfect last syllable; an English multisyllabic assonance); slant: the
    same stressed vowel (EN) or the same class (ZH)."""
    if cand.text == query.text:
        return None
    perfect = cand.unit.key == query.unit.key
    two = len(query.vowels) >= 2 and len(cand.vowels) >= 2 and cand.vowels[-2:] == query.vowels[-2:]
    if query.unit.lang == "zh":
        if perfect:
            return "multi" if two else "perfect"
        return "slant" if cand.unit.zh_class == query.unit.zh_class else None
    if perfect:
        return "perfect"
    if two:
        return "multi"
    return "slant" if cand.vowels[:1] == query.vowels[:1] and len(cand.vowels) == len(query.vowels) else None


def suggest(word: str, lang: str = "auto", limit: int = MAX_SUGGESTIONS) -> Suggestions:
    """Words that rhyme with ``word``, best first."""
    word = (word or "").strip()
    if not word or len(word) > 40:
        raise InputError("give one word (at most 40 characters) to find rhymes for")
    if lang == "auto":
        lang = "zh" if re.search(r"[\u4e00-\u9fff]", word) else "en"
    if lang not in ("en", "zh"):
        raise InputError(f"unknown language {lang!r}: use en or zh")
    notes: list[str] = []
    if lang == "en":
        if not re.fullmatch(r"[A-Za-z][A-Za-z']*", word):
            raise InputError(f"{word!r} is not an English word (letters and apostrophes only)")
        from ..text import english

        key = word.lower()
        if key not in english._cmudict() and key not in english.ADLIBS:
            notes.append(f"{word!r} is not in CMUdict: pronounced by rule (eSpeak), the rhymes may be off")
        sylls = english.word_syllables(key)
        unit = en_unit(key, tuple(sylls))
        if unit is None:
            raise InputError(f"cannot pronounce {word!r}")
        query, index = _Entry(-1, key, unit, tail_vowels(unit.key), len(sylls)), en_index()
    else:
        han = "".join(re.findall(r"[\u4e00-\u9fff]", word))
        if not han:
            raise InputError(f"{word!r} has no Chinese characters")
        from ..text import mandarin

        pys = [s.pinyin for w in mandarin.words(han) for s in w.syllables]
        query, index = _zh_entry(-1, han, pys), zh_index()
    found = [(-_matched(query, e, k), KIND_ORDER[k], e.rank, Suggestion(e.text, k, e.syllables)) for e in index
             if (k := _kind(query, e)) is not None]
    found.sort(key=lambda t: t[:3])
    return Suggestions(word, lang, query.unit.label, tuple(t[3] for t in found[:limit]), tuple(notes))


def _matched(query: _Entry, cand: _Entry, kind: str) -> int:
    """Syllables that rhyme: more first (a Mandarin 双押 before a single rhyme; in English a perfect
    tail already spans all its syllables)."""
    if kind == "multi":
        return 2
    if kind == "perfect" and query.unit.lang == "en":
        return len(query.vowels)
    return 1
