"""Plan invariants, property-based over random lines and tempi (no engine needed)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airap.align import from_durations
from airap.beat import BeatGrid
from airap.catalog import FLOWS, get_flow
from airap.flow import plan_even, plan_line, plan_song
from airap.flow.planner import HOLD_WORD_END, LINE_END_PHONEME_MAX, LineRhymes
from airap.text import Line, Syllable, Word


def make_line(word_sizes, seed):
    rng = np.random.default_rng(seed)
    words, naturals = [], []
    for wi, n in enumerate(word_sizes):
        sylls = []
        for k in range(n):
            sylls.append(Syllable(text=f"s{wi}{k}", phonemes=("k", "ˈa", "t"), vowel_index=1, lang="en",
                                  stress=int(rng.integers(0, 2)), rhyme="at"))
            naturals.append([float(x) for x in rng.uniform(0.03, 0.15, 3)])
        words.append(Word(text=f"w{wi}", lang="en", syllables=tuple(sylls)))
    line = Line(text="x", words=tuple(words))
    return line, from_durations(naturals, [1] * len(naturals), lead_in=0.05)


@settings(max_examples=40, deadline=None)
@given(word_sizes=st.lists(st.integers(1, 4), min_size=1, max_size=14), bpm=st.floats(60, 180),
       template=st.sampled_from(sorted(FLOWS)), seed=st.integers(0, 1000))
def test_plan_invariants(word_sizes, bpm, template, seed):
    line, natural = make_line(word_sizes, seed)
    grid = BeatGrid.regular(bpm, 40)
    lp = plan_line(line, natural, grid, 1, get_flow(template))
    n = len(line.syllables)
    assert len(lp.syllables) == n  # every syllable placed exactly once
    slots = [s.slot for s in lp.syllables]
    assert slots == sorted(slots) and len(set(slots)) == n  # in order, one per slot
    start, end = grid.downbeats[1], grid.downbeats[1 + lp.bars]
    times = [s.slot_time for s in lp.syllables]
    assert start - 1e-9 <= times[0] and times[-1] < end + 0.1  # inside its bars
    assert all(b > a for a, b in zip(times, times[1:]))
    for s in lp.syllables:
        assert all(d >= 0 for d in s.phoneme_durations)
        assert 0.25 < s.stretch < 6.0  # bounded stretch, never a dropped/squashed syllable
    # the vowel onset lands on the slot: onset durations + rests add up exactly
    al = from_durations([list(s.phoneme_durations) for s in lp.syllables], [1] * n, lead_in=0.0,
                        gaps=[s.rest_after for s in lp.syllables])
    onsets = np.array([s.vowel_onset for s in al.syllables]) - al.syllables[0].vowel_onset + times[0]
    assert np.allclose(onsets, times, atol=1e-6)


def test_song_lines_start_on_successive_downbeats():
    lines = [make_line([2, 1, 3], s) for s in range(4)]
    grid = BeatGrid.regular(92, 60)
    plan = plan_song([ln for ln, _ in lines], [nat for _, nat in lines], grid, [get_flow(None)] * len(lines), 1)
    bar = 1
    for lp in plan.lines:
        assert lp.first_bar == bar
        bar += lp.bars
    assert plan.total_bars == bar


def test_long_line_spills_instead_of_squashing():
    line, natural = make_line([3] * 16, 1)  # 48 syllables
    lp = plan_line(line, natural, BeatGrid.regular(92, 40), 1, get_flow("straight"))
    assert lp.bars >= 3
    assert min(s.stretch for s in lp.syllables) > 0.4


def test_optimal_plan_beats_even_spreading():
    costs_opt, costs_even = [], []
    grid = BeatGrid.regular(92, 40)
    for seed in range(8):
        line, natural = make_line([1, 2, 1, 3, 1, 2], seed)
        opt = plan_line(line, natural, grid, 1, get_flow("straight"))
        even = plan_even(line, natural, grid, 1, opt.bars, get_flow("straight"))
        costs_opt.append(np.mean([abs(np.log(s.stretch)) for s in opt.syllables[:-1]]))
        costs_even.append(np.mean([abs(np.log(s.stretch)) for s in even.syllables[:-1]]))
    assert np.mean(costs_opt) < np.mean(costs_even)


def test_held_mandarin_syllable_holds_its_vowel_not_the_glide():
    """想 = ɕ j a↓ ŋ: the beat anchor is the glide's start, but a stretch goes to the toned vowel."""
    syl = Syllable(text="想", phonemes=("ɕ", "j", "a↓", "ŋ"), vowel_index=1, lang="zh", tone=3, rhyme="aŋ")
    assert syl.nucleus_index == 2
    line = Line(text="想", words=(Word(text="想", lang="zh", syllables=(syl,)),))
    natural = from_durations([[0.06, 0.05, 0.14, 0.1]], [1], lead_in=0.05)
    plan = plan_line(line, natural, BeatGrid.regular(70, 4), 0, get_flow(None))
    durs = plan.syllables[0].phoneme_durations
    assert durs[2] > 0.14 and durs[1] <= 0.05 + 1e-9 and durs[3] <= 0.1 + 1e-9
    assert plan.syllables[0].rest_after > 0  # held no longer than a Mandarin vowel may be: the rest is silence


def test_mandarin_line_keeps_its_natural_pace_on_the_grid():
    """Mandarin has tones, not stress: its syllables are not pulled onto beats one by one, so a line
    read at one 16th per syllable is rapped on consecutive 16ths, without gaps inside it."""
    sixteenth = 60 / 92 / 4
    words, naturals = [], []
    for w in range(4):
        sylls = tuple(Syllable(text="字", phonemes=("t", "a↘"), vowel_index=1, lang="zh", tone=1 + (2 * w + k) % 4,
                               rhyme="a") for k in range(2))
        words.append(Word(text="字字", lang="zh", syllables=sylls))
        naturals += [[0.05, sixteenth - 0.05]] * 2
    line = Line(text="字" * 8, words=tuple(words))
    lp = plan_line(line, from_durations(naturals, [1] * 8, lead_in=0.05), BeatGrid.regular(92, 40), 1,
                   get_flow("straight"))
    steps = np.diff([s.slot for s in lp.syllables])
    assert list(steps) == [1] * 7


def test_line_final_lengthening_is_not_sung_as_the_last_vowel():
    """Kokoro gives an unpunctuated line's last phoneme ~0.4 s (the t of "chest"). That is phrase-final
    lengthening and silence, not rime: the last vowel is held about as long as a word end may be
    held, and the extra time is a rest, not a vowel stretched 3x with its coda split off."""
    words, naturals = [], []
    for k in range(6):
        sylls = (Syllable(text="chest", phonemes=("ʧ", "ˈɛ", "s", "t"), vowel_index=1, lang="en", stress=1,
                          rhyme="ɛst"),)
        words.append(Word(text="chest", lang="en", syllables=sylls))
        naturals.append([0.06, 0.18, 0.09, 0.38 if k == 5 else 0.06])
    line = Line(text="chest " * 6, words=tuple(words))
    lp = plan_line(line, from_durations(naturals, [1] * 6, lead_in=0.05), BeatGrid.regular(92, 40), 1,
                   get_flow("straight"))
    last = lp.syllables[-1]
    assert last.phoneme_durations[3] <= LINE_END_PHONEME_MAX + 1e-6
    assert sum(last.phoneme_durations[1:]) <= HOLD_WORD_END * (0.18 + 0.09 + LINE_END_PHONEME_MAX) + 1e-6
    assert last.rest_after > 0


@pytest.mark.parametrize("same_slot", [None, 0, 8])
def test_mandarin_line_runs_on_without_rests_on_a_swung_grid(same_slot):
    """A Mandarin line read at 0.2 s per syllable (between a swung 16th and an 8th), its last syllable
    a rhyme: rapped on consecutive 16ths, not chopped into pairs with rests between (which a rest as
    cheap as an English word end's gave: slots 0 1 4 5 8 9 12 13)."""
    words, naturals = [], []
    for k in range(8):
        sylls = (Syllable(text="字", phonemes=("t", "a↘"), vowel_index=1, lang="zh", tone=1 + k % 4, rhyme="a"),)
        words.append(Word(text="字", lang="zh", syllables=sylls))
        naturals.append([0.05, 0.15])
    line = Line(text="字" * 8, words=tuple(words))
    lp = plan_line(line, from_durations(naturals, [1] * 8, lead_in=0.05), BeatGrid.regular(92, 40, swing=0.6), 1,
                   get_flow("straight"), rhymes=LineRhymes(frozenset({7}), "A"), same_slot=same_slot)
    assert list(np.diff([s.slot for s in lp.syllables])) == [1] * 7
    assert all(s.rest_after == 0 for s in lp.syllables[:-1])
