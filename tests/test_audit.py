"""The forced aligner used to check renders: its Viterbi pass, and its labels."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airap.audit import forced_align
from airap.audit.train import frame_labels


@settings(max_examples=60, deadline=None)
@given(lengths=st.lists(st.integers(1, 30), min_size=1, max_size=25), noise=st.floats(0.0, 1.0),
       seed=st.integers(0, 10_000))
def test_viterbi_recovers_segments_in_order(lengths, noise, seed):
    """Frames scored for the right symbol (plus noise that never outweighs it) are segmented exactly;
    every symbol gets at least one frame, in order, none skipped."""
    rng = np.random.default_rng(seed)
    truth = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    state = np.repeat(np.arange(len(lengths)), lengths)
    ll = -3.0 + noise * rng.random((len(state), len(lengths)))
    ll[np.arange(len(state)), state] = 0.0
    starts = forced_align(ll)
    assert len(starts) == len(lengths) and starts[0] == 0
    assert np.all(np.diff(starts) >= 1)
    np.testing.assert_array_equal(starts, truth)


def test_viterbi_keeps_every_symbol_when_the_audio_prefers_skipping():
    """Symbol 1 scores worst everywhere: it still gets its frame, in its place."""
    ll = np.zeros((10, 3))
    ll[:, 1] = -50.0
    starts = forced_align(ll)
    assert list(starts[:1]) == [0] and starts[1] >= 1 and starts[2] == starts[1] + 1


def test_labels_move_earlier_by_the_acoustic_lead():
    ids, frames = np.array([0, 7, 9, 0]), np.array([4, 2, 2, 4])  # 25 ms teacher frames
    lab = frame_labels(ids, frames, 60, lead=0.05)  # 5 ms label frames
    assert lab[0] == 0 and lab[9] == 0 and lab[10] == 7  # symbol 7 starts at 100 ms - 50 ms
    assert lab[19] == 7 and lab[20] == 9 and lab[30] == 0


@settings(max_examples=80, deadline=None)
@given(sizes=st.lists(st.integers(1, 4), min_size=1, max_size=12), seed=st.integers(0, 10_000),
       a=st.floats(-0.03, 0.03), b=st.floats(-0.5, 0.5), silence=st.floats(-0.03, 0.05))
def test_onset_correction_moves_only_the_boundary_before_each_vowel(sizes, seed, a, b, silence):
    """Whatever the coefficients: the line's length is kept, a syllable starts where planned unless it
    starts with its vowel or its onset moved earlier (by no more than the stray), only the sound (or
    silence) before a vowel or before its syllable trades time with the vowel, and nothing they trade
    falls below the floor."""
    from airap.acoustic.tokens import OnsetLead, place_onsets

    rng = np.random.default_rng(seed)
    durs = [list(rng.uniform(0.01, 0.2, n)) for n in sizes]
    vowels = [int(rng.integers(0, n)) for n in sizes]
    rests = [float(x) for x in rng.choice([0.0, 0.1], len(sizes))]
    out, out_rests, out_lead_in = place_onsets(durs, vowels, rests, 0.3, OnsetLead((a, b), (a, b), silence),
                                               floor=0.015)
    assert [len(d) for d in out] == sizes

    def starts(d, r, lead_in):
        return lead_in + np.cumsum([0.0] + [sum(x) + y for x, y in zip(d, r)])

    planned, heard = starts(durs, rests, 0.3), starts(out, out_rests, out_lead_in)
    assert abs(heard[-1] - planned[-1]) < 1e-9
    onsets = [k for k in range(len(sizes)) if vowels[k] > 0]
    earlier = planned[onsets] - heard[onsets]
    assert np.all(earlier >= -1e-9) and np.all(earlier <= abs(a) + abs(b) * 0.2 + 1e-9)
    for i, (o, d, v) in enumerate(zip(out, durs, vowels)):
        allowed = {v - 1, v} if v > 0 else {0}
        if i + 1 < len(sizes) and rests[i] == 0:
            allowed.add(len(d) - 1)
        changed = {k for k in range(len(d)) if abs(o[k] - d[k]) > 1e-12}
        assert changed <= allowed
        for k in changed:
            assert o[k] >= min(d[k], 0.015) - 1e-12
    assert all(r >= min(r0, 0.015) - 1e-12 for r, r0 in zip(out_rests, rests)) and out_lead_in >= 0.015


def test_onset_correction_direction():
    """A short consonant is heard late, so its vowel's boundary moves earlier; a long one, later; a
    vowel after silence heard late starts earlier, out of the lead-in."""
    from airap.acoustic.tokens import OnsetLead, place_onsets

    lead = OnsetLead(after_consonant=(0.018, -0.265), after_syllable=(0.0, 0.0), after_silence=0.04)
    short = place_onsets([[0.03, 0.2]], [1], [0.0], 0.3, lead)[0][0]
    long_ = place_onsets([[0.15, 0.2]], [1], [0.0], 0.3, lead)[0][0]
    assert short[0] < 0.03 and long_[0] > 0.15
    durs, _, lead_in = place_onsets([[0.2, 0.05]], [0], [0.0], 0.3, lead)
    assert abs(lead_in - 0.26) < 1e-9 and abs(durs[0][0] - 0.24) < 1e-9


def test_a_consonant_too_short_to_cut_moves_its_syllable_s_onset_earlier():
    """A 30-ms consonant gives at most a quarter of itself; the rest of a 20-ms stray comes from the
    syllable before it, so the vowel still starts 20 ms early and the consonant keeps 3/4 of itself."""
    from airap.acoustic.tokens import OnsetLead, place_onsets

    lead = OnsetLead(after_consonant=(0.02, 0.0), after_syllable=(0.0, 0.0), after_silence=0.0)
    out, _, _ = place_onsets([[0.2], [0.03, 0.2]], [0, 1], [0.0, 0.0], 0.3, lead)
    assert abs(out[1][0] - 0.0225) < 1e-9  # the consonant: cut by a quarter, no more
    assert abs(out[0][0] - (0.2 - 0.0125)) < 1e-9  # the syllable before gives the rest
    assert abs(out[0][0] + out[1][0] - (0.23 - 0.02)) < 1e-9  # the vowel starts 20 ms before its plan


def test_a_voice_heard_later_gets_its_vowels_moved_earlier_by_the_offset_in_every_class():
    """``later_by``: a voice whose vowels stray 10 ms more than the lead's voice gets corrections that
    leave it the same zero stray the model predicts: a + 10 ms + b (d - s) - s = 0 after a consonant
    and across a syllable boundary, 10 ms more out of the lead-in after silence."""
    from airap.acoustic.tokens import OnsetLead, place_onsets

    lead = OnsetLead(after_consonant=(0.018, -0.2), after_syllable=(0.008, 0.05), after_silence=0.04)
    later = lead.later_by(0.010)
    assert lead.later_by(0.0) is lead
    durs = [[0.2, 0.12, 0.2], [0.3]]  # a vowel after a 120-ms consonant, then a vowel-initial syllable
    earlier = []
    for voice_lead, extra in ((lead, 0.0), (later, 0.010)):
        out, _, _ = place_onsets([list(d) for d in durs], [2, 0], [0.0, 0.0], 0.3, voice_lead)
        (a, b), s_consonant = lead.after_consonant, 0.12 - out[0][1]  # how much earlier the vowel starts
        assert abs(a + extra + b * out[0][1] - s_consonant) < 1e-9
        (a, b), s_syllable = lead.after_syllable, out[1][0] - 0.3
        assert abs(a + extra + b * out[0][2] - s_syllable) < 1e-9
        earlier.append((s_consonant, s_syllable))
    assert earlier[1][0] > earlier[0][0] + 0.010 and earlier[1][1] > earlier[0][1] + 0.009
    first, _, lead_in = place_onsets([[0.3, 0.1]], [0], [0.0], 0.3, later)
    assert abs(lead_in - (0.3 - 0.05)) < 1e-9 and abs(first[0][0] - 0.35) < 1e-9


@pytest.mark.models
def test_shipped_aligner_matches_its_manifest_and_loads():
    import hashlib
    import json

    import pytest

    pytest.importorskip("torch")
    from airap.audit import ForcedAligner
    from airap.audit.aligner import WEIGHTS

    manifest = json.loads(WEIGHTS.with_suffix(".json").read_text())
    assert manifest["sha256"] == hashlib.sha256(WEIGHTS.read_bytes()).hexdigest()
    aligner = ForcedAligner()
    t = np.arange(24000) / 24000  # one second of a vowel-like buzz: every symbol still gets its frames
    y = (0.3 * np.sign(np.sin(2 * np.pi * 120 * t)) * np.hanning(len(t))).astype(np.float32)
    starts = aligner.symbol_starts(y, 24000, [0, 43, 0])
    assert starts[0] == 0 and 0 < starts[1] < starts[2] < 1.0


def test_rests_inside_a_word_become_inserted_silence():
    """A rest after a syllable with no word gap behind it (Mandarin syllables inside a word) has no
    token to live in: it is inserted into the audio as silence at that syllable's end."""
    from airap.acoustic.tokens import inner_rests, insert_silences

    space = 16
    ids = [0, 5, 6, space, 7, 8, 9, 0]  # word 1: one syllable (5 6); word 2: syllables (7) and (8 9)
    where = [[[1], [2]], [[4]], [[5], [6]]]
    assert inner_rests(ids, where, [0.2, 0.3, 0.1], space) == [(5, 0.3)]  # the first is a word gap, the last the pad
    sr = 1000
    audio = np.ones(1000, np.float32)
    out = insert_silences(audio, sr, [(0.4, 0.25), (0.7, 0.1)])
    assert len(out) == 1000 + 250 + 100
    assert np.all(out[400:650] == 0) and np.all(out[950:1050] == 0)  # 0.7 s moved to 0.95 s by the first
    assert out[300] == 1 and out[1300] == 1 and out[399] < 0.3  # faded, not clicked
