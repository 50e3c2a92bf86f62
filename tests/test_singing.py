"""Sung lines: notes in a sheet, the composer, WORLD re-pitching, and a sung hook through the render."""

import json
from dataclasses import replace

import numpy as np
import pytest

from airap.acoustic import SungLine
from airap.acoustic.pitch import ENERGY_ONSET_S, held_energy, held_world_vowel, register_shift, sing_on_notes
from airap.align import from_durations
from airap.beat import BeatGrid
from airap.catalog import get_flow
from airap.errors import InputError
from airap.flow import plan_line
from airap.flow.melody import RANGE_SEMITONES, Harmony, compose_line, harmony_part
from airap.render import Renderer
from airap.request import RenderRequest
from airap.text import analyze_line, parse_lyrics
from airap.text.notes import note_name, note_number
from fakes import FakeEngine

HOOK = """sections:
  - name: verse
    lines: [I keep it moving every day]
  - name: hook
    sing: true
    harmony: third
    lines:
      - {text: "Keep it moving never stop", notes: "E4 E4 G4 E4 D4 C4 D4"}
      - We gonna shine until the light
      - We gonna shine until the light
"""


def test_note_names_read_and_write():
    assert note_number("C4") == 60 and note_number("F#3") == 54 and note_number("Bb4") == 70
    assert note_name(61) == "C#4"
    for bad, needle in (("H4", "not a note"), ("C7", "outside C2-C6"), ("C1", "outside")):
        with pytest.raises(InputError, match=needle):
            note_number(bad)


def test_wrong_note_count_names_the_line_and_both_counts():
    sheet = 'lines:\n  - {text: "Keep it moving", notes: "C4 D4"}\n'
    with pytest.raises(InputError, match=r"'Keep it moving' has 4 syllables but 2 notes"):
        parse_lyrics(sheet)
    with pytest.raises(InputError, match="harmony must be one of"):
        parse_lyrics('sections:\n  - {name: hook, harmony: fifth, lines: [yo]}\n')


def test_composed_melody_follows_the_rules():
    line, _ = analyze_line("we gonna shine until the morning light and on and on")
    tpl = get_flow("sung")
    grid = BeatGrid.regular(90.0, 12)
    nat = FakeEngine().natural_timing(line, "kumo")
    plan = plan_line(line, nat, grid, 1, tpl)
    harmony = Harmony(57, (0, 5, 2, 6))
    notes = compose_line(line, plan, tpl, harmony, seed=3)
    assert len(notes) == len(line.syllables) and max(notes) - min(notes) <= RANGE_SEMITONES
    assert notes == compose_line(line, plan, tpl, harmony, seed=3)  # the same line, the same melody
    strengths = tpl.strengths()
    for sp, n in zip(plan.syllables, notes):
        assert (n - 57) % 12 in (0, 2, 3, 5, 7, 8, 10)  # in A minor
        if strengths[sp.slot % tpl.slots_per_bar] >= 0.6:
            assert n % 12 in harmony.chord(plan.first_bar + sp.slot // tpl.slots_per_bar)
    last_bar = plan.first_bar + plan.syllables[-1].slot // tpl.slots_per_bar
    assert notes[-1] % 12 in harmony.chord_root_third(last_bar)
    assert len(set(notes)) >= 4  # it moves
    third = harmony_part(notes, harmony, "third")
    assert all(3 <= h - n <= 4 for n, h in zip(notes, third))


def _voiced_line(text: str, f0: float = 140.0, sr: int = 24000) -> tuple[SungLine, object]:
    """A buzzy vowel-like reading of ``text``: a pulse train through two formants, 0.35 s per syllable."""
    from scipy import signal

    line, _ = analyze_line(text)
    durs = [[0.05] * s.vowel_index + [0.3] + [0.0] * (len(s.phonemes) - s.vowel_index - 1) for s in line.syllables]
    al = from_durations(durs, [s.vowel_index for s in line.syllables], lead_in=0.2)
    n = int((al.syllables[-1].end + 0.2) * sr)
    t = np.arange(n) / sr
    pulses = (np.diff(np.floor(t * f0 * (1 + 0.03 * np.sin(2 * np.pi * 0.7 * t))), prepend=0) > 0).astype(float)
    y = signal.lfilter([1], [1, -1.3, 0.8], pulses) + 0.5 * signal.lfilter([1], [1, 0.4, 0.7], pulses)
    return SungLine((0.1 * y / np.abs(y).max()).astype(np.float32), sr, al), line


def test_world_sings_the_notes_in_the_voices_register():
    import librosa

    sung, line = _voiced_line("keep it moving never stop")
    notes = (64, 64, 67, 64, 62, 60, 62)
    takes = sing_on_notes(sung, line, notes, detunes=(0.1,), harmony=harmony_part(notes, Harmony(57), "third"))
    assert takes.shift == register_shift(notes, 12 * np.log2(140 / 440) + 69) == -12  # 140 Hz speaks near C#3
    assert len(takes.lead.audio) == len(sung.audio) and len(takes.doubles) == 1 and takes.harmony is not None
    f0, voiced, _ = librosa.pyin(takes.lead.audio, fmin=60, fmax=600, sr=24000, frame_length=1024, hop_length=120)
    t = librosa.times_like(f0, sr=24000, hop_length=120)
    errors = []
    for span, note in zip(sung.alignment.syllables, takes.notes):
        steady = (t > span.vowel_onset + 0.08) & (t < span.end - 0.05) & voiced
        errors += list(np.abs(1200 * np.log2(f0[steady] / 440) + 6900 - 100 * note))
    assert len(errors) > 50 and np.median(errors) < 25 and np.mean(np.array(errors) < 50) > 0.85


def test_a_sung_hook_renders_with_its_notes(tmp_path):
    res = Renderer(FakeEngine()).render(RenderRequest(lyrics=HOOK, bpm=90), tmp_path)
    t = json.loads((tmp_path / "timings.json").read_text())
    notes = [[s["note"] for w in ln["words"] for s in w["syllables"]] for ln in t["lines"]]
    assert notes[0] == [None] * len(notes[0])  # the verse is rapped
    assert all(n is not None for n in notes[1]) and notes[2] == notes[3]  # a repeated line, the same melody
    given = [note_number(n) for n in notes[1]]
    assert np.array_equal(np.diff(given), np.diff([64, 64, 67, 64, 62, 60, 62]))  # moved by octaves only
    assert {ln["flow"] for ln in t["lines"][1:]} == {"sung"}
    assert any("moved" in w for w in res.track.warnings) or given[0] == 64


def test_the_sing_the_hook_switch_sings_hook_lines(tmp_path):
    lyrics = "[verse]\nI keep it moving every day\n[hook]\nRun it back\nRun it back"
    res = Renderer(FakeEngine()).render(RenderRequest(lyrics=lyrics, bpm=90, sing_hooks=True))
    sung = [any(s.note is not None for w in ln.words for s in w.syllables) for ln in res.track.lines]
    assert sung == [False, True, True]


def test_accents_make_the_hit_syllables_louder_and_keep_their_places():
    import librosa

    from airap.acoustic.pitch import accent_line

    sung, line = _voiced_line("keep it moving never stop", f0=150.0)
    strengths = (1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0)
    out = accent_line(sung, strengths)
    assert len(out.audio) == len(sung.audio) and out.alignment is sung.alignment
    t = librosa.times_like(np.zeros(len(out.audio) // 120 + 1), sr=24000, hop_length=120)
    rms = librosa.feature.rms(y=out.audio, frame_length=1024, hop_length=120)[0][: len(t)]
    level = {0.0: [], 1.0: []}
    for span, s in zip(sung.alignment.syllables, strengths):
        steady = (t > span.vowel_onset + 0.08) & (t < span.end - 0.05)
        level[s] += list(20 * np.log10(rms[steady] + 1e-9))
    assert np.mean(level[1.0]) - np.mean(level[0.0]) > 4.0
    assert abs(float(np.sqrt(np.mean(out.audio ** 2))) / float(np.sqrt(np.mean(sung.audio ** 2))) - 1) < 0.4


def test_a_sections_sung_lines_keep_one_register():
    # alone, the low line would move two octaves and the others one: the hook would fold its
    # written octave away; moved together, the melody keeps its shape across the lines
    sheet = """sections:
  - name: hook
    sing: true
    lines:
      - {text: "Keep it moving never stop", notes: "E4 E4 G4 E4 D4 C4 D4"}
      - {text: "Keep it moving never stop", notes: "E3 E3 G3 E3 D3 C3 D3"}
      - {text: "Keep it moving never stop", notes: "E4 E4 G4 E4 D4 C4 D4"}
"""
    res = Renderer(FakeEngine()).render(RenderRequest(lyrics=sheet, bpm=90))
    first = [ln.words[0].syllables[0].note for ln in res.track.lines]
    assert first[0] == first[2] == first[1] + 12
    assert len({w for w in res.track.warnings if "moved" in w}) == 1  # one move, +12, for every line


def test_an_accent_is_heard_against_the_line_not_against_the_syllable_itself():
    from airap.acoustic.pitch import against_line

    # semitones of five syllables (one unread): the line's median is -0.5; the second sits 1.5 under it
    lifts = against_line(np.array([0.0, -2.0, 1.0, -1.0, np.nan]), [2.0, 2.0, 0.0, 0.0, 2.0])
    assert lifts == [2.0, 3.5, 0.0, 0.0, 2.0]  # a low accented syllable catches up, the rest as asked
    assert against_line(np.array([0.0, -12.0, 0.0]), [0.0, 2.0, 0.0]) == [0.0, 4.0, 0.0]  # catch-up capped


def test_a_quiet_syllable_on_the_beat_is_lifted_over_the_lines_level():
    import librosa

    from airap.acoustic.pitch import accent_line

    sung, _ = _voiced_line("keep it moving never stop", f0=150.0)
    a, b = sung.alignment.syllables[2].start, sung.alignment.syllables[3].start
    quiet = sung.audio.copy()
    quiet[int(a * 24000):int(b * 24000)] *= 0.7  # the syllable on the beat read 3 dB under the others
    out = accent_line(SungLine(quiet, 24000, sung.alignment), (0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0))
    rms = librosa.feature.rms(y=out.audio, frame_length=1024, hop_length=120)[0]
    t = librosa.times_like(rms, sr=24000, hop_length=120)
    level = [20 * np.log10(np.median(rms[(t > s.vowel_onset + 0.08) & (t < s.end - 0.05)]) + 1e-9)
             for s in sung.alignment.syllables]
    assert level[2] - np.median(np.delete(level, 2)) > 4.0


def test_mandarin_lines_are_accented_by_level_and_english_ones_by_pitch_too():
    from airap.flow.accents import line_accents

    grid = BeatGrid.regular(90.0, 8)
    for text, lang, lifted in (("我每天都在努力工作", "zh", False), ("Every day I work to get it right", "en", True)):
        line, _ = analyze_line(text, lang)
        plan = plan_line(line, FakeEngine().natural_timing(line, "xi"), grid, 0, get_flow("straight"))
        accents = line_accents(line, plan, get_flow("straight"))
        assert any(accents.strengths) and not all(accents.strengths)
        # a lifted tone is heard as another tone: Mandarin hits are louder, never higher
        assert any(accents.lifts) is lifted


def test_a_midi_melody_beside_the_sheet_is_shared_over_the_sections_lines(tmp_path):
    import pretty_midi

    from airap.cli import _inline_melody_files

    tune = [64, 64, 67, 64, 62, 60, 62, 67, 69, 67, 64, 62, 60, 62]
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(0)
    for k, p in enumerate(tune):
        inst.notes.append(pretty_midi.Note(90, p, k * 0.3, k * 0.3 + 0.28))
    inst.notes.append(pretty_midi.Note(90, 55, 0.0, 0.28))  # a lower chord tone under the first note
    pm.instruments.append(inst)
    pm.write(str(tmp_path / "hook.mid"))
    sheet = ("sections:\n  - name: hook\n    melody: hook.mid\n"
             "    lines: [Keep it moving never stop, Light it up and let it glow]\n")
    song = parse_lyrics(_inline_melody_files(sheet, tmp_path))
    assert [ln.notes for ln in song.lines] == [tuple(tune[:7]), tuple(tune[7:])] and all(ln.sing for ln in song.lines)
    with pytest.raises(InputError, match="can only be read by `airap render`"):
        parse_lyrics(sheet)  # over HTTP a sheet cannot name a file
    with pytest.raises(InputError, match="its melody has 3 notes, fewer than its lines. syllables"):
        parse_lyrics(sheet.replace("hook.mid", '"C4 D4 E4"'))


def test_on_an_upload_the_composed_melody_is_in_the_key_detected_from_it(tmp_path):
    import soundfile as sf

    from airap.beat import detect_key_root, generate_beat, key_root
    from airap.catalog import get_style

    style = get_style("boom-bap")
    beat = generate_beat(style, BeatGrid.regular(90, 12, swing=style.swing), seed=4)
    root = detect_key_root(beat.audio, 44100)
    assert root % 12 == key_root(4) % 12  # this beat's key is found (16 of 27 are: benchmarks/key_detection.py)
    path = tmp_path / "inst.wav"
    sf.write(path, beat.audio, 44100)
    lyrics = "[verse]\nI keep it moving every day\n[hook]\nWe gonna shine until the light"
    res = Renderer(FakeEngine()).render(RenderRequest(lyrics=lyrics, instrumental=str(path), sing_hooks=True))
    notes = [s.note for w in res.track.lines[1].words for s in w.syllables]
    assert all(n is not None and (n - root) % 12 in (0, 2, 3, 5, 7, 8, 10) for n in notes)


def test_sung_flow_is_slower_than_the_reading_with_weak_syllables_on_sixteenths():
    # 8th notes only gave every syllable at least an 8th, and a word's weak syllables were heard as
    # words of their own ("every coin" -> "every week coin")
    line, _ = analyze_line("every city has a story and a melody to carry")
    line = replace(line, sing=True)
    bpm = 92.0
    nat = FakeEngine().natural_timing(line, "kumo")
    plan = plan_line(line, nat, BeatGrid.regular(bpm, 16), 0, get_flow("sung"))
    sung = np.diff([s.slot_time for s in plan.syllables])
    read = np.diff([s.vowel_onset for s in nat.syllables])
    assert sung.mean() >= 1.2 * read.mean()
    assert sung.min() < 1.5 * 60.0 / bpm / 4  # a weak syllable takes a 16th


def test_only_a_lines_last_vowel_is_held_at_its_onset_level():
    frame = 0.0125
    t = np.arange(200) * frame
    energy = np.where(t < 1.0, 1.0, np.exp(-(t - 1.0) * 10))  # every vowel decays after 1 s
    held = [(0.5, 0.9), (1.0, 2.0)]
    out = held_energy(energy, frame, held)
    tail = (t >= 1.0 + ENERGY_ONSET_S) & (t < 2.0)
    assert np.allclose(out[tail], 1.0) and np.array_equal(out[~tail], energy[~tail])
    aperiodicity = np.where(t < 1.0, -4.0, 0.0)  # the last vowel whispered
    feats = np.stack([np.zeros_like(t), energy, np.log(energy), aperiodicity], axis=1)
    kept = held_world_vowel(feats, np.log(energy), 1, 3, frame, held)
    assert np.allclose(kept[tail, 1], energy[tail] - np.log(energy[tail]))  # the log power's deficit added
    assert np.array_equal(kept[:, 2], feats[:, 2])  # the envelope's shape keeps its course
    last = (t >= 1.0) & (t < 2.0)
    assert np.allclose(kept[last, 3], -4.0)  # as periodic as the line's other vowel
    assert np.array_equal(kept[~last], feats[~last]) and np.array_equal(kept[:, 0], feats[:, 0])
    assert held_energy(energy, frame, []) is energy
