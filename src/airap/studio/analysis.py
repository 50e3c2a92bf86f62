"""A song's rhymes, read as a rap writer reads them: end-rhyme scheme letters, multisyllabic rhymes
between lines, rhymes inside a line, rhyme density, and how each line fits the chosen flow and tempo."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from itertools import combinations

from .. import catalog
from ..errors import InputError
from ..text.types import Line, Song, Syllable
from .rhyme import WEAK_VOWELS, RhymeUnit, compare, en_unit, en_vowel, family, zh_unit

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Words too common to count as internal rhymes ("I ... my ... why" is not a rhyme a writer placed).
STOPWORDS = {"a", "an", "the", "i", "me", "my", "you", "your", "we", "he", "she", "it", "they", "to", "of", "in",
             "on", "at", "and", "or", "but", "so", "is", "am", "are", "be", "do", "no", "by", "for", "up", "oh"}
# Unstressed words that ride on the rhyme before them at a line end.
TRAILING_WORDS = {"it", "me", "you", "him", "her", "them", "us", "up", "a"}
MAX_PLAIN_BARS = 2  # the planner spreads a line over more bars than this only with a warning


@dataclass(frozen=True)
class RhymeGroup:
    """Words inside one line that rhyme with each other (or with its end)."""

    rhyme: str
    words: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]  # character spans in the line's text (words found there)


@dataclass(frozen=True)
class MultiRhyme:
    first: int  # line indices
    second: int
    syllables: int  # how many syllables from the end match in their vowels
    ends: tuple[str, str]  # the matching words, as written


@dataclass(frozen=True)
class LineAnalysis:
    text: str
    section: str
    syllables: int
    rhyme: str  # readable ending: "-ace", "-ang"
    tone: int | None  # Mandarin: the rhyming syllable's tone (押韵 ignores it)
    scheme: str  # a letter; lines whose ends rhyme share it
    end_span: tuple[int, int] | None  # the rhyming end word in the line's text
    end_rhyme: str | None  # "perfect" / "slant": how its end rhymes with another line (perfect preferred)
    groups: tuple[RhymeGroup, ...]
    bars: int  # bars it needs in the chosen flow at the chosen tempo
    fits: bool
    fitting_flows: tuple[str, ...]  # flows it fits in (shown when it does not fit the chosen one)


@dataclass(frozen=True)
class SongAnalysis:
    lines: tuple[LineAnalysis, ...]
    scheme: str  # e.g. "AABB CCDD" (a space between sections)
    density: float  # rhymed syllables / all syllables
    multis: tuple[MultiRhyme, ...]
    longest_multi: MultiRhyme | None
    syllables_per_bar: float
    flow: str
    bpm: float
    zh_classes: str

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _End:
    unit: RhymeUnit
    word: str
    syllables: tuple[Syllable, ...]  # the rhyming syllables (end tail)


def line_end(line: Line, system: str) -> _End | None:
    """The rhyming end of a line: the last word's tail (EN), or the last full-tone syllable (ZH: a
    neutral 的/了/吗 ending rhymes on the syllable before it)."""
    if not line.words:
        return None
    last = line.words[-1]
    if last.lang == "en":
        text, sylls = last.text, last.syllables
        before = line.words[-2] if len(line.words) > 1 else None
        spelled = [ph for syl in last.syllables for ph in syl.phonemes] == ["ˈA"]  # the letter: "plan A"
        if before is not None and before.lang == "en" and last.text.lower() in TRAILING_WORDS and not spelled:
            # 'win it' / 'minute': a short pronoun after the rhyme word belongs to the rhyme
            text, sylls = f"{before.text} {last.text}", before.syllables + tuple(
                Syllable(s.text, s.phonemes, s.vowel_index, s.lang, 0, s.tone, s.rhyme) for s in last.syllables)
        unit = en_unit(text, sylls)
        if unit is None:
            return None
        k = next((i for i in range(len(sylls) - 1, -1, -1) if sylls[i].stress), 0)
        return _End(unit, last.text, sylls[k:])
    sylls = [s for w in line.words for s in w.syllables]
    k = len(sylls) - 1
    if sylls[k].tone == 5 and k > 0 and sylls[k - 1].lang == "zh":
        k -= 1
    return _End(zh_unit(sylls[k], system), sylls[k].text, tuple(sylls[k:]))


@dataclass(frozen=True)
class _Vowel:
    lang: str
    exact: str  # EN: the nucleus without stress; ZH: coarse vowel + nasal
    coarse: str  # coarse vowel + nasal coda (across languages)
    weak: bool  # an unstressed English weak vowel (ə, ɪ, i): glue between matches, never a match itself


def _vowel_run(line: Line) -> list[_Vowel]:
    """One entry per syllable, from the end; Mandarin neutral endings skipped."""
    sylls = [s for w in line.words for s in w.syllables]
    while len(sylls) > 1 and sylls[-1].lang == "zh" and sylls[-1].tone == 5:
        sylls.pop()
    run = []
    # a one-syllable function word ('in', 'it', 'the') is glue between matches, like a weak vowel:
    # 'his dreams' / 'it seems' is one matched syllable (on dev: multi F1 0.885 -> 0.889, fewer false pairs)
    stop = {id(s) for w in line.words if w.lang == "en" and len(w.syllables) == 1 and w.text.lower() in STOPWORDS
            for s in w.syllables}
    for s in reversed(sylls):
        if s.lang == "en":
            nucleus = s.phonemes[s.vowel_index].lstrip("ˈˌ") if s.phonemes else ""
            coda = s.phonemes[s.vowel_index + 1:s.vowel_index + 2]
            nasal = {"n": "n", "m": "n", "ŋ": "ŋ"}.get(coda[0], "") if coda else ""
            exact = {"ɔ": "ɑ"}.get(nucleus, nucleus)  # cot/caught merged, as most rap is performed
            weak = nucleus in ("ə", "ᵊ") or (s.stress == 0 and nucleus in WEAK_VOWELS) or id(s) in stop
            run.append(_Vowel("en", exact, en_vowel(s) + nasal, weak))
        else:
            unit = zh_unit(s)
            run.append(_Vowel("zh", unit.vowel + unit.nasal, unit.vowel + unit.nasal, False))
    return run


def _same_vowel(a: _Vowel, b: _Vowel) -> bool:
    return a.exact == b.exact if a.lang == b.lang else a.coarse == b.coarse


def multi_length(a: Line, b: Line) -> int:
    """How many syllables from the ends of two lines match in their vowels: English on the exact
    vowel (weak unstressed vowels match each other: 'reason' / 'season' is two), Mandarin and mixed
    pairs on vowel + nasal coda. Two weak matches in a row end the run, and a run never starts (on
    its left) with one: 'the city' / 'a pity' is two, not three."""
    run = []
    for va, vb in zip(_vowel_run(a), _vowel_run(b)):
        weak_pair = va.weak and vb.weak
        if not (weak_pair or (not va.weak and not vb.weak and _same_vowel(va, vb))):
            break
        if weak_pair and run and run[-1]:
            break
        run.append(weak_pair)
    while run and run[-1]:
        run.pop()
    return len(run)


def _internal_groups(line: Line, system: str) -> tuple[RhymeGroup, ...]:
    units: list[tuple[str, RhymeUnit]] = []
    for w in line.words:
        if w.lang == "en":
            if w.text.lower() in STOPWORDS:
                continue
            unit = en_unit(w.text, w.syllables)
        else:
            full = [s for s in w.syllables if s.tone != 5] or list(w.syllables)
            unit = zh_unit(full[-1], system)
        if unit is not None:
            units.append((w.text, unit))
    by_key: dict[tuple[str, str], list[str]] = {}
    for text, unit in units:
        by_key.setdefault((unit.lang, unit.key), []).append(text)
    groups = []
    for (lang, key), words in by_key.items():
        if len({w.lower() for w in words}) < 2:  # the same word twice is repetition, not rhyme
            continue
        label = next(u.label for t, u in units if (u.lang, u.key) == (lang, key))
        groups.append(RhymeGroup(label, tuple(words), _spans(line.text, words)))
    return tuple(groups)


def _spans(text: str, words: list[str]) -> tuple[tuple[int, int], ...]:
    spans, lowered = [], text.lower()
    for w in words:
        at = lowered.find(w.lower())
        while at >= 0 and (at, at + len(w)) in spans:
            at = lowered.find(w.lower(), at + 1)
        if at >= 0:
            spans.append((at, at + len(w)))
    return tuple(sorted(spans))


def _last_span(text: str, word: str) -> tuple[int, int] | None:
    at = text.lower().rfind(word.lower())
    return (at, at + len(word)) if at >= 0 else None


def bars_needed(line: Line, tpl, bpm: float) -> int:
    """Bars the line needs: its syllables over the template's slots, or its phonemes over the
    template's fastest rate at this tempo, whichever asks for more."""
    n = len(line.syllables)
    phonemes = sum(len(s.phonemes) for s in line.syllables)
    bar_seconds = 4 * 60.0 / bpm
    return max(1, math.ceil(max(n / tpl.slots_per_bar, phonemes / (tpl.max_rate * bar_seconds))))


def _letters(ends: list[_End | None]) -> tuple[list[str], list[str | None]]:
    """Rhyming line ends -> a letter per line (in order of first appearance) and how each line's end
    rhymes. Perfect rhymes are joined first, then family rhymes (a nasal for a nasal); any other
    slant rhyme joins only a line that has no perfect partner, so an AABB verse whose A and B share a
    vowel ('out' / 'down') keeps two letters."""
    parent = list(range(len(ends)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    kinds: list[str | None] = [None] * len(ends)
    pairs = {(i, j): compare(ends[i].unit, ends[j].unit) for i, j in combinations(range(len(ends)), 2)
             if ends[i] and ends[j]}
    for (i, j), kind in pairs.items():
        if kind == "perfect":
            parent[root(j)] = root(i)
            kinds[i] = kinds[j] = "perfect"
    for (i, j), kind in pairs.items():  # a family rhyme joins even lines that have perfect partners
        if kind == "slant" and family(ends[i].unit, ends[j].unit):
            parent[root(j)] = root(i)
            kinds[i], kinds[j] = kinds[i] or "slant", kinds[j] or "slant"
    for (i, j), kind in pairs.items():
        if kind == "slant" and (kinds[i] is None or kinds[j] is None):
            parent[root(j)] = root(i)
            kinds[i], kinds[j] = kinds[i] or "slant", kinds[j] or "slant"
    names: dict[int, str] = {}
    letters = []
    for i in range(len(ends)):
        r = root(i)
        if r not in names:
            names[r] = LETTERS[len(names) % 26] * (1 + len(names) // 26)
        letters.append(names[r])
    return letters, kinds


def analyze_song(song: Song, flow: str | None = None, bpm: float | None = None,
                 zh_classes: str = "shisan") -> SongAnalysis:
    if zh_classes not in ("shisan", "xinyun"):
        raise InputError(f"unknown Mandarin rhyme classes {zh_classes!r}: use shisan (十三辙) or xinyun (中华新韵)")
    tpl = catalog.get_flow(flow or song.flow or catalog.DEFAULT_FLOW)
    style = catalog.get_style(song.beat or catalog.DEFAULT_STYLE)
    bpm = catalog.check_bpm(bpm if bpm is not None else (song.bpm or style.default_bpm))
    lines = song.lines
    ends = [line_end(ln, zh_classes) for ln in lines]
    letters, kinds = _letters(ends)
    multis = tuple(MultiRhyme(i, j, k, (ends[i].word if ends[i] else "", ends[j].word if ends[j] else ""))
                   for i, j in combinations(range(len(lines)), 2)
                   if (k := multi_length(lines[i], lines[j])) >= 2)
    shared = {x for x in letters if letters.count(x) > 1}
    rhymed = 0
    out = []
    for i, (line, end, letter, kind) in enumerate(zip(lines, ends, letters, kinds)):
        groups = _internal_groups(line, zh_classes)
        n_end = len(end.syllables) if end and letter in shared else 0
        n_multi = max((m.syllables for m in multis if i in (m.first, m.second)), default=0)
        n_internal = sum(len(g.words) for g in groups)
        rhymed += min(len(line.syllables), max(n_end, n_multi) + n_internal)
        bars = bars_needed(line, tpl, bpm)
        fits = bars <= MAX_PLAIN_BARS
        fitting = () if fits else tuple(t.name for t in catalog.FLOWS.values()
                                        if bars_needed(line, t, bpm) <= MAX_PLAIN_BARS)
        end_span = _last_span(line.text, end.word) if end else None
        out.append(LineAnalysis(line.text, line.section, len(line.syllables), end.unit.label if end else "",
                                end.unit.tone if end and end.unit.lang == "zh" else None, letter, end_span, kind,
                                groups, bars, fits, fitting))
    total = sum(len(ln.syllables) for ln in lines)
    scheme, prev = "", None
    for line, a in zip(lines, out):
        if prev is not None and line.section != prev:
            scheme += " "
        scheme += a.scheme
        prev = line.section
    return SongAnalysis(tuple(out), scheme, round(rhymed / total, 3) if total else 0.0, multis,
                        max(multis, key=lambda m: m.syllables, default=None),
                        round(total / max(1, sum(a.bars for a in out)), 2), tpl.name, bpm, zh_classes)


def rhyme_placement(song: Song, zh_classes: str = "shisan"):
    """What the flow planner should place on strong beats, per line: the rhyming syllable of each
    line end that rhymes with another line (the stressed one of its tail), and the full-vowel syllables
    of a multisyllabic rhyme; with the line's scheme letter (None when it rhymes with no line)."""
    from ..flow import LineRhymes

    lines = song.lines
    ends = [line_end(ln, zh_classes) for ln in lines]
    letters, _ = _letters(ends)
    out = []
    for i, (line, end, letter) in enumerate(zip(lines, ends, letters)):
        sylls = line.syllables
        shared = letters.count(letter) > 1
        marked: set[int] = set()
        if end and shared:
            marked.add(len(sylls) - len(end.syllables))  # the tail's first syllable is the rhyming one
        multi = max((multi_length(line, lines[j]) for j in range(len(lines)) if j != i), default=0)
        if multi >= 2:
            run = _vowel_run(line)
            skipped = len(sylls) - len(run)  # Mandarin neutral endings are not in the run
            for back, v in enumerate(run[:multi]):
                if not v.weak:
                    marked.add(len(sylls) - 1 - skipped - back)
        out.append(LineRhymes(frozenset(marked), letter if shared else None))
    return out
