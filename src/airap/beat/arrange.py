"""From the song's form to a bar-by-bar arrangement: which section each bar is in, which drum bar
it plays (groove, answer, turnaround, fill, breakdown), and which layers sound. Pure data: the seed
picks every variation, :mod:`.generate` only plays what this says.

The form: an intro, the lyric sections in order (each starting on a 4-bar phrase), an outro on the
hook's music, and one final hit. Lyrics without section tags get a default form: blocks of two or
more lines that recur are the hook, the rest is verse; long sections get a fill every 8 bars."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from .styles import STEPS, BeatStyle, DrumBar

PHRASE_BARS = 4  # sections start on 4-bar phrases: the unit a listener counts in
OUTRO_BARS = 2  # the hook's music once more after the last line, then the final hit
DROP_STEP = 12  # the drums and the bass stop from this 16th of the bar before a hook (12: beat 4)
SECTION_KINDS = ("intro", "verse", "hook", "bridge", "outro")
_KIND_WORDS = (  # a section's name -> its kind (first match wins; anything else is a verse)
    ("hook", ("hook", "chorus", "refrain", "chant", "副歌", "合唱")),
    ("bridge", ("bridge", "breakdown", "interlude", "桥段", "间奏")),
    ("intro", ("intro", "前奏")),
    ("outro", ("outro", "尾奏", "结尾")),
)


def section_kind(name: str) -> str:
    low = name.lower()
    for kind, words in _KIND_WORDS:
        if any(w in low for w in words):
            return kind
    return "verse"


@dataclass(frozen=True)
class Section:
    name: str  # as the lyrics call it ("verse", "hook", "verse 2"); "intro"/"outro" for the beat's own
    kind: str  # one of SECTION_KINDS
    first_bar: int
    bars: int


@dataclass(frozen=True)
class Layers:
    """What sounds in a section kind."""
    drums: str  # "none" | "hats" (hats only, soft) | "full" | "half" (the breakdown bar)
    bass: bool
    open_hats: bool  # the groove's open hats plus one on every 'and' of beat 4
    lift: int  # MIDI velocity added to the drums: a hook hits harder
    # The music's low-pass (Hz, None: open): muffled in the intro and the bridge, darker under a
    # verse (room for the voice), open in the hook, which is what makes a hook sound bigger throughout.
    lowpass_hz: float | None


LAYERS = {
    "intro": Layers("hats", bass=False, open_hats=False, lift=-20, lowpass_hz=900.0),
    "verse": Layers("full", bass=True, open_hats=False, lift=0, lowpass_hz=2500.0),
    "hook": Layers("full", bass=True, open_hats=True, lift=8, lowpass_hz=None),
    "bridge": Layers("half", bass=True, open_hats=False, lift=-8, lowpass_hz=900.0),
    "outro": Layers("full", bass=True, open_hats=True, lift=4, lowpass_hz=None),
}


@dataclass(frozen=True)
class BarPlan:
    bar: int
    section: Section
    role: str  # "groove" | "answer" | "turnaround" | "fill" | "drop" | "breakdown" | "intro"
    drums: DrumBar  # what the kit plays, variations already applied
    layers: Layers
    comp: bool  # chords in the style's comp rhythm (answer phrases) instead of held
    lead: bool
    counter: bool
    crash: bool  # a crash on the downbeat (a section starts)
    drop_last_beat: bool  # the drums and the bass stop from DROP_STEP to the hook
    octave_jump: bool  # the bass's last note an octave up (turnarounds)


@dataclass(frozen=True)
class Arrangement:
    sections: tuple[Section, ...]
    bars: tuple[BarPlan, ...]
    end_bar: int  # the downbeat of the final hit (the bar after the outro)


def label_lines(sections: list[str], texts: list[str], tagged: bool) -> list[str]:
    """Each line's section name: as tagged, or by the default form (recurring blocks are the hook)."""
    if tagged:
        return list(sections)
    norm = [re.sub(r"[\W_]+", " ", t.lower()).strip() for t in texts]
    counts = {t: norm.count(t) for t in norm}
    repeated = [counts[t] >= 2 and bool(t) for t in norm]
    labels = ["verse"] * len(texts)
    k = 0
    while k < len(texts):
        if repeated[k]:
            j = k
            while j < len(texts) and repeated[j]:
                j += 1
            if j - k >= 2:  # a lone repeated line is a motif, not a hook
                labels[k:j] = ["hook"] * (j - k)
            k = j
        else:
            k += 1
    return labels


def section_starts(labels: list[str]) -> set[int]:
    """Indices of the lines that open a section (a change of label)."""
    return {k for k in range(1, len(labels)) if labels[k] != labels[k - 1]}


def song_sections(labels: list[str], line_first_bars: list[int], intro_bars: int, song_bars: int,
                  outro_bars: int = OUTRO_BARS) -> tuple[Section, ...]:
    """Intro, one section per run of equally labelled lines, outro. ``song_bars``: where the last
    lyric section ends (the outro starts there)."""
    out = [Section("intro", "intro", 0, intro_bars)] if intro_bars else []
    starts = [0] + sorted(section_starts(labels))
    for n, k in enumerate(starts):
        first = line_first_bars[k]
        end = line_first_bars[starts[n + 1]] if n + 1 < len(starts) else song_bars
        out.append(Section(labels[k], section_kind(labels[k]), first, end - first))
    out.append(Section("outro", "outro", song_bars, outro_bars))
    return tuple(s for s in out if s.bars > 0)


# -- variations: a drum bar edited step by step ------------------------------------------------------

def _set(pattern: str, step: int, char: str) -> str:
    return pattern[:step] + char + pattern[step + 1:]


def _turnaround(bar: DrumBar, rng: np.random.Generator) -> DrumBar:
    """The last bar of a phrase: one of a few idiomatic pushes into the next phrase."""
    move = rng.integers(0, 4)
    if move == 0:  # kick push on the last 'a'
        return replace(bar, kick=_set(_set(bar.kick, 14, "x"), 15, "o"))
    if move == 1:  # snare drag
        return replace(bar, snare=_set(_set(bar.snare, 13, "o"), 15, "o"))
    if move == 2:  # a hat roll into the downbeat
        return replace(bar, hat=_set(_set(bar.hat, 14, "r"), 15, "r"), open_hat=_set(bar.open_hat, 14, "."))
    return replace(bar, open_hat=_set(bar.open_hat, 14, "x"), hat=_set(bar.hat, 14, "."))


def _ghosts(bar: DrumBar, rng: np.random.Generator) -> DrumBar:
    """One or two soft snare ghosts on free off-beat 16ths, different in every bar."""
    free = [s for s in range(1, STEPS, 2) if bar.snare[s] == "." and bar.kick[s] == "."]
    snare = bar.snare
    for s in rng.choice(free, size=min(len(free), int(rng.integers(1, 3))), replace=False) if free else []:
        snare = _set(snare, int(s), "o")
    return replace(bar, snare=snare)


def _hat_rolls(bar: DrumBar, rng: np.random.Generator) -> DrumBar:
    """Trap hats: rolls on a few of the bar's hat steps, placed anew each bar."""
    hat = bar.hat
    for s in range(STEPS):
        if hat[s] in "xX" and s % 4 in (2, 3) and rng.random() < 0.25:
            hat = _set(hat, s, "r")
    return replace(bar, hat=hat)


def _open_hats(bar: DrumBar) -> DrumBar:
    """Hook lift: an open hat on the 'and' of every beat the groove leaves free."""
    oh = bar.open_hat
    for s in (2, 6, 10, 14):
        if bar.snare[s] == "." and oh[s] == ".":
            oh = _set(oh, s, "x")
    hat = "".join("." if oh[i] != "." else c for i, c in enumerate(bar.hat))
    return replace(bar, open_hat=oh, hat=hat)


def _hats_only(bar: DrumBar) -> DrumBar:
    return DrumBar(kick="." * STEPS, snare="." * STEPS, hat=bar.hat.replace("r", "x"))


def _drop_tail(bar: DrumBar) -> DrumBar:
    """Nothing starts from DROP_STEP on: the silence before the hook lands."""
    cut = lambda p: p[:DROP_STEP] + "." * (STEPS - DROP_STEP)
    return DrumBar(*(cut(getattr(bar, f)) for f in ("kick", "snare", "hat", "open_hat", "perc")))


def arrange(style: BeatStyle, sections: tuple[Section, ...], seed: int) -> Arrangement:
    """Every bar of ``sections``: its drum bar and layers. The same seed gives the same arrangement."""
    rng = np.random.default_rng([seed, 7])
    bars: list[BarPlan] = []
    for n, sec in enumerate(sections):
        nxt = sections[n + 1] if n + 1 < len(sections) else None
        layers = LAYERS[sec.kind]
        for i in range(sec.bars):
            last = i == sec.bars - 1
            into_hook = last and nxt is not None and nxt.kind == "hook"
            if into_hook:  # the groove, then the drop: no fill, so the hook lands on a clean cut
                role = "drop"
            elif sec.kind == "intro":
                role = "fill" if last else "intro"
            elif sec.kind == "bridge":
                role = "fill" if last and nxt is not None else "breakdown"
            elif (last and nxt is not None and nxt.kind != "outro") or (i % 8 == 7 and not last):
                role = "fill"
            elif i % PHRASE_BARS == PHRASE_BARS - 1:
                role = "turnaround"
            else:
                role = "groove" if (i // PHRASE_BARS) % 2 == 0 else "answer"
            drums = {"fill": style.fill, "breakdown": style.breakdown, "answer": style.answer}.get(role, style.groove)
            if role == "drop" and sec.kind in ("intro", "bridge"):
                drums = style.breakdown if sec.kind == "bridge" else _hats_only(style.groove)
            elif role == "drop" and (i // PHRASE_BARS) % 2:
                drums = style.answer
            if role == "turnaround":
                drums = _turnaround(style.answer if (i // PHRASE_BARS) % 2 else style.groove, rng)
            if role in ("groove", "answer", "turnaround", "drop"):
                if style.ghost_notes:
                    drums = _ghosts(drums, rng)
                if style.hat_rolls:
                    drums = _hat_rolls(drums, rng)
                if layers.open_hats:
                    drums = _open_hats(drums)
            if layers.drums == "hats" and role != "fill":
                drums = _hats_only(drums)
            if into_hook:
                drums = _drop_tail(drums)
            bars.append(BarPlan(
                bar=sec.first_bar + i, section=sec, role=role, drums=drums, layers=layers,
                comp=(i // PHRASE_BARS) % 2 == 1 and sec.kind in ("verse", "hook", "outro"),
                lead=sec.kind in style.lead_sections or (sec.kind == "outro" and "hook" in style.lead_sections),
                counter=style.counter_program is not None and sec.kind in ("hook", "outro"),
                crash=i == 0 and sec.kind in ("verse", "hook", "outro"),
                drop_last_beat=into_hook,
                octave_jump=role == "turnaround" and bool(rng.random() < 0.5)))
    end_bar = sections[-1].first_bar + sections[-1].bars if sections else 0
    return Arrangement(sections=sections, bars=tuple(bars), end_bar=end_bar)
