"""Uploaded instrumentals: real audio made here, broken files rejected with clear errors."""

import numpy as np
import pytest
import soundfile as sf

from airap.beat import BeatGrid, generate_beat, load_instrumental, track_beat
from airap.catalog import LIMITS, get_style
from airap.errors import InputError


def generated(style: str, bpm: float, bars: int, seed: int):
    return generate_beat(get_style(style), BeatGrid.regular(bpm, bars, swing=get_style(style).swing), seed=seed)


def test_tracks_tempo_and_downbeat_with_pickup(tmp_path):
    beat = generated("boom-bap", 90, 12, 2)
    pickup = 0.3
    audio = np.concatenate([np.zeros((int(pickup * 44100), 2), np.float32), beat.audio])
    path = tmp_path / "inst.flac"
    sf.write(path, audio, 44100)
    y, sr = load_instrumental(str(path), 44100, LIMITS.upload)
    grid = track_beat(y, sr)
    assert abs(grid.bpm - 90) < 2
    period = 60 / 90
    # the first downbeat found is a real downbeat of the beat (a whole number of bars after the pickup)
    bars = (grid.downbeats[0] - pickup) / (4 * period)
    assert abs(bars - round(bars)) < 0.05


@pytest.mark.parametrize("style,bpm", [("trap", 140), ("drill", 120)])
def test_syncopated_beats_get_tempo_and_on_beat_phase(tmp_path, style, bpm):
    """Trap kicks sit on off-beats (a plain tracker locks half a beat late) and drill's triplet hats
    pull tempo estimates to 4/3; the tracked beats must still be the real ones."""
    import mir_eval

    beat = generated(style, bpm, 12, 3)
    path = tmp_path / "inst.wav"
    sf.write(path, beat.audio, 44100)
    y, sr = load_instrumental(str(path), 44100, LIMITS.upload)
    grid = track_beat(y, sr)
    assert abs(grid.bpm / bpm - 1) < 0.03
    ref = np.array(beat.grid.beats)
    est = np.array(grid.beats)
    assert mir_eval.beat.f_measure(ref[ref < len(y) / sr], est[est < len(y) / sr]) > 0.9


def metronome(bpm: float, bars: int, start: float = 0.5, sr: int = 44100,
              eighths: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """A click track: a 2-kHz accented click on every bar's first beat, 1-kHz clicks on the others,
    and with ``eighths`` > 0 a 1-kHz click that loud between them; nothing else (no pattern, no
    bass, no chords). Returns stereo audio and the true beat times."""
    beats = start + 60 / bpm * np.arange(bars * 4)
    y = np.zeros(int((beats[-1] + 1.0) * sr))
    t = np.arange(int(0.03 * sr)) / sr
    clicks = [(b, *((2000, 1.0) if k % 4 == 0 else (1000, 0.7))) for k, b in enumerate(beats)]
    clicks += [(b + 30 / bpm, 1000, eighths) for b in beats] if eighths else []
    for b, f, gain in clicks:
        i = int(round(b * sr))
        y[i:i + len(t)] += gain * np.sin(2 * np.pi * f * t) * np.exp(-t / 0.006)
    y += 1e-3 * np.random.default_rng(1).standard_normal(len(y))
    return np.stack([y, y], axis=1).astype(np.float32), beats


@pytest.mark.parametrize(("bpm", "eighths"), [(62, 0.0), (64, 0.0), (150, 0.0), (170, 0.0), (69, 0.25), (164, 0.25)])
def test_a_metronome_is_read_at_its_own_tempo_with_its_accent_as_the_downbeat(bpm, eighths):
    """A bare pulse has no pattern to tell its octave: the tempo prior pulled a 62-BPM click to 124,
    a 150-BPM one to 75, and with quiet 8ths a 69-BPM one to 138 and a 164-BPM one to 82. Its loud
    clicks are its beats (read in linear amplitude); the accented click is the bar's first beat."""
    y, beats = metronome(bpm, 14, eighths=eighths)
    grid = track_beat(y, 44100)
    assert abs(grid.bpm / bpm - 1) < 0.01
    first = grid.downbeats[0]
    assert np.min(np.abs(beats[::4] - first)) < 0.02


def drum_loop(bpm: float, swing: float, bars: int, start: float, sr: int = 44100, hats_only_bars: int = 0):
    """Noise-burst drums (kick-like low thump on beats 1 and 3, a snare burst on 2 and 4, hats on
    every 16th with the off 16ths swung; the first ``hats_only_bars`` bars only the hats) and the
    true beat times."""
    rng = np.random.default_rng(0)
    period = 60 / bpm
    beats = start + period * np.arange(bars * 4 + 1)
    y = np.zeros(int((beats[-1] + 1) * sr))

    def hit(t, sound):
        i = int(round(t * sr))
        y[i:i + len(sound)] += sound[: len(y) - i]

    n = int(0.08 * sr)
    decay = np.exp(-np.arange(n) / (0.02 * sr))
    kick = np.sin(2 * np.pi * 60 * np.arange(n) / sr) * decay
    snare = rng.standard_normal(n) * decay * 0.6
    hat = np.diff(rng.standard_normal(n + 1)) * decay * 0.15
    for k, t in enumerate(beats[:-1]):
        if k >= 4 * hats_only_bars:
            hit(t, kick if k % 2 == 0 else snare)
        for off in (0, swing / 2, 0.5, 0.5 + swing / 2):
            hit(t + off * period, hat)
    return np.stack([y, y], axis=1).astype(np.float32), beats


@pytest.mark.parametrize("bpm, start", [(72, 0.0), (72, 0.6), (90, 0.25), (126, 0.6)])
def test_a_plain_drum_loop_starts_its_bars_where_it_starts(bpm, start):
    """Kick on 1 and 3, snare on 2 and 4, no bass and no chords: nothing in the bar tells beat 1 from
    beat 3 (the tracker's pick was a coin flip, wrong on each of these), and the loop starts on the
    one. A hit at the file's very first sample is a beat too."""
    y, true = drum_loop(bpm, 0.5, 12, start)
    grid = track_beat(y, 44100, bpm_hint=bpm)
    assert np.min(np.abs(np.array(grid.beats) - true[0])) < 0.005
    assert np.min(np.abs(np.array(grid.downbeats) - true[0])) < 0.005


def drill_loop(bpm: float, bars: int, sr: int = 44100, off_accent: float = 1.25) -> tuple[np.ndarray, np.ndarray]:
    """A drill-like bar with as many hits on the beats as off them in every drum band (kick on 16ths
    0 and 10, snare on 6 and 12, hats on 0 3 6 8 11 14), the off-beat ones ``off_accent`` louder,
    over a chord that changes at each bar's start (Am F G Em). Returns stereo audio and the true
    beats."""
    rng = np.random.default_rng(3)
    step = 15 / bpm
    beats = 0.5 + 4 * step * np.arange(bars * 4 + 1)
    y = np.zeros(int((beats[-1] + 1) * sr))

    def add(t, sound):
        i = int(round(t * sr))
        y[i:i + len(sound)] += sound[: len(y) - i]

    n = int(0.12 * sr)
    tt = np.arange(n) / sr
    kick = np.sin(2 * np.pi * 55 * tt) * np.exp(-tt / 0.04)
    snare = rng.standard_normal(n) * np.exp(-tt / 0.03) * 0.5
    hat = np.diff(rng.standard_normal(n + 1)) * np.exp(-tt / 0.01) * 0.15
    for bar in range(bars):
        t0 = beats[4 * bar]
        span = np.arange(int(4 * 4 * step * sr)) / sr
        root = (57, 53, 55, 52)[bar % 4]
        chord = sum(np.sin(2 * np.pi * 440 * 2 ** ((root + iv - 69) / 12) * span) for iv in (0, 3, 7, 12))
        add(t0, 0.08 * chord * np.minimum(1, np.minimum(span / 0.03, (span[-1] - span) / 0.03)))
        for k in range(16):
            t = t0 + k * step
            gain = off_accent if k in (6, 10) else 1.0
            if k in (0, 10):
                add(t, gain * kick)
            if k in (6, 12):
                add(t, gain * snare)
            if k in (0, 3, 6, 8, 11, 14):
                add(t, hat)
    return np.stack([y, y], axis=1).astype(np.float32), beats


@pytest.mark.parametrize("bpm", [156, 168])
def test_a_pattern_the_drums_leave_open_is_put_on_the_beat_by_its_chords(bpm):
    """Every drum band of this bar has as many hits on the beat as half a beat later (the tracker
    followed the louder off-beat ones, F 0); the chords, which change on a bar's first beat, settle
    the phase."""
    import mir_eval

    y, beats = drill_loop(bpm, 16)
    grid = track_beat(y, 44100, bpm_hint=bpm)
    est = np.array(grid.beats)
    assert mir_eval.beat.f_measure(beats, est[est < beats[-1] + 0.1]) > 0.9


def test_tracked_beats_sit_on_the_hits_and_read_the_swing():
    """Beats refined on the fine onset curve land within a few ms of the true hits (the coarse
    tracker was ~25 ms late), and the swung off 16ths give the grid's swing."""
    y, true = drum_loop(96, 0.6, 16, 0.25)
    grid = track_beat(y, 44100, bpm_hint=96)  # the tempo is given: this checks placement and swing
    # (without the hint this loop reads as 128 BPM: the pattern-length check's known weakness)
    est = np.array(grid.beats)
    est = est[(est > true[0] - 0.05) & (est < true[-1] + 0.05)]
    err = est - true[np.argmin(np.abs(est[:, None] - true[None, :]), axis=1)]
    assert np.median(np.abs(err)) < 0.006
    assert abs(grid.bpm - 96) < 0.2
    assert abs(grid.swing - 0.6) <= 0.02
    straight = track_beat(drum_loop(96, 0.5, 16, 0.25)[0], 44100, bpm_hint=96)
    assert straight.swing == 0.5


def test_swing_is_read_from_the_fills_of_a_groove_with_no_off_sixteenths():
    """Four on the floor (kicks on the beats, open hats on the off 8ths, vinyl crackle) sounds its off
    16ths only in the fill that ends every eighth bar: the swing is read there, not averaged away."""
    sr, bpm, swing = 44100, 124, 0.6
    period = 60 / bpm
    rng = np.random.default_rng(2)
    beats = 0.25 + period * np.arange(16 * 4 + 1)
    y = np.zeros(int((beats[-1] + 1) * sr))
    n = int(0.08 * sr)
    decay = np.exp(-np.arange(n) / (0.02 * sr))
    kick = np.sin(2 * np.pi * 60 * np.arange(n) / sr) * decay
    snare = rng.standard_normal(n) * decay * 0.5
    hat = np.diff(rng.standard_normal(n + 1)) * decay * 0.3

    def hit(t, sound):
        i = int(round(t * sr))
        y[i:i + len(sound)] += sound[: len(y) - i]

    for k, t in enumerate(beats[:-1]):
        hit(t, kick)
        hit(t + period / 2, hat)
        if k % 32 == 31:  # the fill: snares on every 16th of the bar's last beat
            for off in (0, swing / 2, 0.5, 0.5 + swing / 2):
                hit(t + off * period, snare)
    crackle = rng.random(len(y)) < 30 / sr  # ~30 clicks a second
    y += 0.035 * crackle * rng.standard_normal(len(y))
    grid = track_beat(np.stack([y, y], axis=1).astype(np.float32), sr, bpm_hint=bpm)
    assert abs(grid.swing - swing) <= 0.02


def test_beats_of_a_drumless_intro_are_carried_on_from_the_drums():
    """Four bars of bass notes (beats 1 and 3) under a soft pad before the drums come in: the bass's
    onsets peak 20-70 ms after their beats, so the intro's beats take the drums' line instead."""
    from scipy import signal

    sr, bpm, intro_beats = 44100, 84, 16
    period = 60 / bpm
    drums, true = drum_loop(bpm, 0.5, 12, 0.3 + intro_beats * period)
    beats = 0.3 + period * np.arange(len(true) - 1 + intro_beats)
    y = 0.3 * drums[:, 0]
    t = np.arange(int(0.25 * sr)) / sr
    bass = 0.3 * np.sin(2 * np.pi * 110 * t) * np.exp(-t / 0.12)
    tb = np.arange(int(4 * period * sr)) / sr
    pad = sum(signal.sawtooth(2 * np.pi * f * tb) for f in (220.0, 261.6, 329.6))
    pad = signal.sosfilt(signal.butter(2, 1200, fs=sr, output="sos"), pad) * 0.05 * np.minimum(1, tb / 0.05)
    for k, b in enumerate(beats):
        i = int(round(b * sr))
        if k % 2 == 0:
            y[i:i + len(bass)] += bass[: len(y) - i]
        if k % 4 == 0:
            y[i:i + len(pad)] += pad[: len(y) - i]
    grid = track_beat(np.stack([y, y], axis=1).astype(np.float32), sr, bpm_hint=bpm)
    est = np.array(grid.beats)
    intro = est[est < beats[intro_beats - 1] + 0.05]
    assert len(intro) == intro_beats
    assert np.max(np.abs(intro - beats[:intro_beats])) < 0.006, np.round((intro - beats[:intro_beats]) * 1000, 1)


@pytest.mark.parametrize("hats_only_bars", [0, 2, 4])
def test_an_intro_of_hats_alone_waits_for_the_kick_and_snare(hats_only_bars):
    """Hats place the grid but are not yet the groove: the lyrics wait for the kick and the snare."""
    from airap.beat.track import track_upload

    y, true = drum_loop(96, 0.5, 16, 0.25, hats_only_bars=hats_only_bars)
    tracked = track_upload(y, 44100, bpm_hint=96, downbeat_hint=0.25)
    assert tracked.intro_bars == hats_only_bars
    assert tracked.grid.slot_time(tracked.intro_bars, 0) == pytest.approx(true[4 * hats_only_bars], abs=0.01)


def test_a_doubtful_tempo_is_named_and_a_hint_settles_it(tmp_path):
    """Kick-snare-kick-snare at 80 BPM with 16th hats is also a 160-BPM beat: when the reading lands
    on the other octave, the warning names the true one; the hint removes the doubt; a clear loop
    gets no warning."""
    from airap.beat import uploaded_backing

    path = tmp_path / "loop80.wav"
    sf.write(path, drum_loop(80, 0.5, 16, 0.25)[0], 44100)
    backing = uploaded_backing(str(path), 44100, LIMITS.upload)
    if abs(backing.grid.bpm - 80) > 1:
        assert backing.warnings and "may also be 80 BPM" in backing.warnings[0], backing.warnings
    hinted = uploaded_backing(str(path), 44100, LIMITS.upload, bpm_hint=80)
    assert abs(hinted.grid.bpm - 80) < 0.5 and not hinted.warnings
    clear = tmp_path / "loop96.wav"
    sf.write(clear, drum_loop(96, 0.5, 16, 0.25)[0], 44100)
    assert not uploaded_backing(str(clear), 44100, LIMITS.upload).warnings


def test_audio_without_a_beat_gets_a_warning(tmp_path):
    """A slowly swelling chord has no beat to track: the render is told the grid may be wrong; a
    drum loop is not."""
    from airap.beat import uploaded_backing

    t = np.arange(40 * 44100) / 44100
    pad = sum(np.sin(2 * np.pi * f * t) for f in (220, 277, 330)) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.05 * t))
    path = tmp_path / "pad.wav"
    sf.write(path, (0.2 * pad).astype(np.float32), 44100)
    assert any("no clear beat" in w for w in uploaded_backing(str(path), 44100, LIMITS.upload).warnings)
    loop = tmp_path / "loop.wav"
    sf.write(loop, drum_loop(96, 0.5, 16, 0.25)[0], 44100)
    assert not any("no clear beat" in w for w in uploaded_backing(str(loop), 44100, LIMITS.upload).warnings)


@pytest.mark.parametrize("maker,needle", [
    (lambda p: p.write_bytes(b""), "not a readable audio"),
    (lambda p: p.write_bytes(b"this is not audio at all" * 100), "not a readable audio"),
    (lambda p: sf.write(p, np.zeros(44100 * 6, np.float32), 44100), "silent"),
    (lambda p: sf.write(p, np.zeros(4410, np.float32) + 0.1, 44100), "too short"),
])
def test_bad_uploads(tmp_path, maker, needle):
    path = tmp_path / "upload.wav"
    maker(path)
    with pytest.raises(InputError, match=needle):
        load_instrumental(str(path), 44100, LIMITS.upload)


def test_odd_formats_are_handled(tmp_path):
    t = np.arange(8000 * 6) / 8000
    mono8k = (0.3 * np.sin(2 * np.pi * 100 * t) * (t % 0.5 < 0.1)).astype(np.float32)
    sf.write(tmp_path / "m.wav", mono8k, 8000)
    y, sr = load_instrumental(str(tmp_path / "m.wav"), 44100, LIMITS.upload)
    assert y.shape[1] == 2 and sr == 44100
    six = np.random.default_rng(0).uniform(-0.2, 0.2, (192000 * 5, 6)).astype(np.float32)
    sf.write(tmp_path / "s.wav", six, 192000)
    y, sr = load_instrumental(str(tmp_path / "s.wav"), 44100, LIMITS.upload)
    assert y.shape[1] == 2 and abs(len(y) / sr - 5) < 0.01


def test_two_hour_upload_is_refused_before_decoding(tmp_path):
    import struct

    sr = 8000
    path = tmp_path / "two_hours.wav"
    with sf.SoundFile(path, "w", sr, 1, "PCM_16") as f:
        f.write(np.zeros(sr, np.int16))
    data_bytes = sr * 7200 * 2
    with open(path, "r+b") as f:  # a real 2-hour file, written sparsely (115 MB on paper, 16 kB on disk)
        head = f.read(64)
        at = head.find(b"data")
        f.seek(4)
        f.write(struct.pack("<I", 36 + data_bytes))
        f.seek(at + 4)
        f.write(struct.pack("<I", data_bytes))
        f.truncate(at + 8 + data_bytes)
    with pytest.raises(InputError, match="120 minutes"):
        load_instrumental(str(path), 44100, LIMITS.upload)


@pytest.mark.parametrize("maker,needle", [
    (lambda p: sf.write(p, np.zeros(44100 * 6, np.float32), 44100), "silent"),
    (lambda p: p.write_bytes(b"RIFF" + b"\0" * 100), "not a readable audio"),
])
def test_spot_check_catches_silent_and_broken_files(tmp_path, maker, needle):
    from airap.beat import spot_check_instrumental

    path = tmp_path / "upload.wav"
    maker(path)
    with pytest.raises(InputError, match=needle):
        spot_check_instrumental(str(path), LIMITS.upload)


def test_spot_check_passes_music(tmp_path):
    from airap.beat import spot_check_instrumental

    t = np.arange(44100 * 8) / 44100
    sf.write(tmp_path / "ok.wav", (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 44100)
    assert spot_check_instrumental(str(tmp_path / "ok.wav"), LIMITS.upload).channels == 1


def test_the_beat_net_runs_the_same_in_numpy_as_in_torch(tmp_path):
    """The upload path runs the net in numpy; training runs it in torch. Same weights, same logits."""
    torch = pytest.importorskip("torch")
    from airap.beat.activation import BeatNetConfig, forward, load_net
    from airap.training.beat_net import build_net, export_weights

    config = BeatNetConfig(channels=8, dilations=(1, 2, 4))
    net = build_net(config).eval()
    export_weights(net, config, tmp_path / "net.npz")
    params, loaded = load_net(tmp_path / "net.npz")
    assert loaded == config
    feats = np.random.default_rng(0).random((300, 80)).astype(np.float32)
    net.load_state_dict({k: torch.from_numpy(v) for k, v in params.items()})
    with torch.no_grad():
        expected = net(torch.from_numpy(feats.T[None]))[0].numpy()
    assert np.allclose(forward(params, loaded, feats), expected, atol=1e-4)


def test_the_shipped_beat_net_fires_on_the_beats_and_on_the_ones():
    """On an arranged beat of a seed it never trained on, the beat curve peaks on the beats and not
    between them, and the downbeat curve peaks on the bars' first beats only."""
    from airap.beat.activation import beat_activation

    def peaks(curve: np.ndarray, times: np.ndarray, fps: float) -> np.ndarray:
        frames = np.round(times * fps).astype(int)
        return np.array([curve[max(0, f - 2): f + 3].max() for f in frames if f < len(curve) - 2])

    beat = generated("trap", 140, 12, 5)
    act = beat_activation(beat.audio.mean(axis=1), 44100)
    beats = np.array(beat.grid.beats)
    assert np.median(peaks(act.beat, beats, act.fps)) > 0.5 > np.median(peaks(act.beat, beats[:-1] + 30 / 140, act.fps))
    down = peaks(act.downbeat, beats, act.fps)
    assert np.median(down[0::4]) > 0.5 > np.median(np.concatenate([down[1::4], down[2::4], down[3::4]]))


def test_the_tracker_falls_back_to_the_onset_curve_where_the_net_is_sure_of_no_bar(monkeypatch):
    """The net's trust is its downbeat curve's mean peak at its best beat phase: 1 where it fires on
    every bar's first beat, 0 where it fires on none. Under NET_TRUST the onset curve reads the grid,
    and still reads a plain loop right."""
    import airap.beat.track as track

    beats = np.arange(0, 3200, 40)
    curve = np.zeros(3300, np.float32)
    curve[beats[1::4]] = 1.0
    assert track.net_trust(curve, beats) == pytest.approx(1.0)
    assert track.net_trust(np.zeros(3300, np.float32), beats) == 0.0
    monkeypatch.setattr(track, "NET_TRUST", 1.1)  # nothing is trusted: the onset-curve path alone
    y, true = drum_loop(96, 0.5, 12, 0.25)
    grid = track_beat(y, 44100)
    assert abs(grid.bpm - 96) < 0.5
    assert np.median(np.min(np.abs(np.array(grid.beats)[:, None] - true[None]), axis=1)[:40]) < 0.01
