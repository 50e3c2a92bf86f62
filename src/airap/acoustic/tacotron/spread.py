"""The spread of the predicted features restored (global variance, Toda & Tokuda 2007).

A model trained on squared error predicts the mean of what it has seen, so its features vary less
within a line than the teacher's. The envelope: measured on the cast corpus at the teacher's own
durations (FastSpeech-lite, 1,600 steps), the teacher's within-line spread of the mel-cepstrum is
1.05x the student's on c1 and rises to 1.8x on c39, formants blurred and the voice muffled and less
like itself. The pitch: over the frames the teacher voices, its log F0 varies 1.15x (shipped
student) to 1.22x (cast student) the student's, a flatter reading whose Mandarin tones are heard as
other tones. Each model carries its own ratios (measured once, at export); at inference a line's
deviations from its own mean are scaled by them, every frame keeping its envelope power and the
line its mean pitch.

Dev screen (sessions 37, 38: 24 EN + 16 ZH lyric lines of the dev sets, 18 characters, a scratch
run of benchmarks/student.py's ``measure``), the envelope: DNSMOS P.808 3.47 -> 3.77 (the teacher
4.05), speaker similarity to the teacher 0.774 -> 0.809, WER 10.7 -> 9.8 %, CER 14.6 -> 15.3 % (one
character); half the correction (the ratio to the power 0.75) or a fixed cepstral lift (x1.2 from
c2) gave less on every count. The pitch on top, at its measured ratio (1.215): CER 13.9 -> 10.2 %,
WER 6.8 -> 6.0 %, P.808 3.72 -> 3.69; a fixed x1.3 gave CER 10.2 % but WER 8.6 %; the aperiodicity's
spread (x1.1-1.2) made both worse and is not restored. Held-out (BENCHMARKS, session 38), the
pitch's on top of the envelope's: rapped errors 0.6-2.7 points lower for both students in both
languages, P.808 0.02-0.03 lower.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ...waveform.world import BAP_COLUMN, LOG_F0_COLUMN, MGC_COLUMN, VOICED_COLUMN, envelope_log_power

SPREAD_UTTERANCES = 400  # corpus utterances measured at export (a median over them per ratio)
MIN_VOICED_FRAMES = 10  # an utterance with fewer voiced frames says nothing about its pitch's spread


@dataclass(frozen=True)
class Spread:
    """The teacher's within-line spread over the model's: ``envelope`` one ratio per mel-cepstral
    coefficient (c0, the level, always 1), ``pitch`` one for the log F0 of voiced frames."""

    envelope: np.ndarray
    pitch: float = 1.0

    @classmethod
    def from_state(cls, state: dict) -> Spread | None:
        """The ratios stored with a model's weights (None: weights exported without them)."""
        if state.get("spread") is None:
            return None
        return cls(np.asarray(state["spread"], np.float32), float(state.get("pitch_spread", 1.0)))

    def to_state(self) -> dict:
        return {"spread": [round(float(r), 4) for r in self.envelope], "pitch_spread": round(float(self.pitch), 4)}


def restore_spread(feats: np.ndarray, spread: Spread) -> np.ndarray:
    """[frames, FEATURE_DIM] WORLD features -> the same with each mel-cepstral coefficient's deviation
    from the line's mean scaled by its ratio (c0 then set so that every frame's envelope keeps its
    power) and the log F0's deviation from the mean of the voiced frames scaled by the pitch ratio."""
    feats = np.asarray(feats, dtype=np.float32)
    if len(feats) < 2:
        return feats
    out = feats.copy()
    mgc = out[:, MGC_COLUMN + 1:BAP_COLUMN]
    mean = mgc.mean(axis=0, keepdims=True)
    out[:, MGC_COLUMN + 1:BAP_COLUMN] = mean + (mgc - mean) * np.asarray(spread.envelope, np.float32)[1:]
    out[:, MGC_COLUMN] += (envelope_log_power(feats) - envelope_log_power(out)).astype(np.float32)
    voiced = out[:, VOICED_COLUMN] > 0.5
    if voiced.sum() > 1 and spread.pitch != 1.0:
        centre = out[voiced, LOG_F0_COLUMN].mean()
        out[:, LOG_F0_COLUMN] = centre + (out[:, LOG_F0_COLUMN] - centre) * np.float32(spread.pitch)
    return out


def measure_spread(predict, utterances: Iterable[dict]) -> Spread:
    """The median over ``utterances`` (corpus items: ids, frames, speaker, feats) of the teacher's
    within-line standard deviation over the model's, the model reading each at the teacher's
    durations: per mel-cepstral coefficient (c0 left as predicted, ratio 1) and for the log F0 over
    the frames the teacher voices. ``predict(ids, speaker, frames_per_feature_token)`` -> features
    without the correction."""
    envelope, pitch = [], []
    for utt in utterances:
        pred = predict(list(map(int, utt["ids"])), int(utt["speaker"]), 2 * np.asarray(utt["frames"], np.int64))
        n = min(len(pred), len(utt["feats"]))
        if n < 2:
            continue
        teacher = np.asarray(utt["feats"][:n], np.float64)
        model = np.asarray(pred[:n], np.float64)
        envelope.append(teacher[:, MGC_COLUMN:BAP_COLUMN].std(axis=0)
                        / np.maximum(model[:, MGC_COLUMN:BAP_COLUMN].std(axis=0), 1e-6))
        voiced = teacher[:, VOICED_COLUMN] > 0.5
        if voiced.sum() >= MIN_VOICED_FRAMES:
            pitch.append(teacher[voiced, LOG_F0_COLUMN].std() / max(model[voiced, LOG_F0_COLUMN].std(), 1e-6))
    if not envelope:
        raise ValueError("no utterance to measure the spread on")
    ratio = np.median(np.array(envelope), axis=0)
    ratio[0] = 1.0
    return Spread(ratio.astype(np.float32), float(np.median(pitch)) if pitch else 1.0)
