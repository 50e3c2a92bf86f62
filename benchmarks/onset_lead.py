"""The vowel-onset correction measured on audio. Held-out corpus lines (never trained on, never in
grid.py) are sung with every syllable stretched at random (0.5-1.7x), or with ``--rapped BPM,...`` on
the durations and rests the flow planner gives them at those tempi (the shipped flow, from a bar's
start) and through the render's vocal chain, as a render sings them. The audio is forced-aligned
(airap.audit, which sees only audio and symbols), and each vowel's heard onset is compared with where
the engine says it put it.
Same run, same lines: the engine with its OnsetLead vs with the constant acoustic lead only.
``--fit`` also fits the stray on a *different* sample of lines with the correction off — how the
shipped coefficients were obtained (Kokoro's: ``--rapped 92,140 --voice rose``). Prints JSON.

    .venv/bin/python benchmarks/onset_lead.py --engine fast --lines 60 --fit   # needs setup.sh --train
    .venv/bin/python benchmarks/onset_lead.py --engine kokoro --voice rose --rapped 92,140 --lines 30 --fit
"""

import argparse
import json
import random
from dataclasses import asdict

import numpy as np

from airap.acoustic import load_engine
from airap.acoustic.base import LINE_LEAD_IN, LINE_TAIL
from airap.acoustic.tokens import OnsetLead, line_tokens, load_vocab, vowel_tokens
from airap.audit import ForcedAligner
from airap.beat import BeatGrid
from airap.catalog import get_flow
from airap.errors import AirapError
from airap.flow import plan_line
from airap.mix.chain import vocal_chain
from airap.text import parse_lyrics
from airap.training.corpus import CorpusRecipe, splits


def sample_lines(n: int, seed: int) -> list[str]:
    heldout = [t for lang, t in splits(CorpusRecipe())[1]]
    rng = random.Random(seed)
    half = len(heldout) // 2  # first half English, second Mandarin
    return rng.sample(heldout[:half], n) + rng.sample(heldout[half:], n)


def stretched(engine, line, voice: str, rng: random.Random) -> list[tuple[list[list[float]], list[float]]]:
    """The line's own durations with every syllable stretched at random (0.5-1.7x), no rests."""
    nat = engine.natural_timing(line, voice)
    scales = [rng.uniform(0.5, 1.7) for _ in nat.syllables]
    return [([[d * sc for d in s.phoneme_durations] for s, sc in zip(nat.syllables, scales)], [0.0] * len(scales))]


def rapped(engine, line, voice: str, bpms: tuple[float, ...]) -> list[tuple[list[list[float]], list[float]]]:
    """The durations and rests the flow planner gives the line at each tempo (shipped flow, bar 1)."""
    nat, out = engine.natural_timing(line, voice), []
    for bpm in bpms:
        plan = plan_line(line, nat, BeatGrid.regular(bpm, 16), 1, get_flow(None))
        out.append(([list(s.phoneme_durations) for s in plan.syllables], [s.rest_after for s in plan.syllables]))
    return out


def strays(engine, aligner: ForcedAligner, texts: list[str], seed: int, voice: str = "kumo",
           bpms: tuple[float, ...] = ()) -> list[dict]:
    """Per syllable: heard vowel onset minus reported onset (ms), the class and the phoneme before;
    stretched at random, or rapped at ``bpms``."""
    rng, vocab, rows = random.Random(seed), load_vocab(), []
    for text in texts:
        try:
            line = parse_lyrics(text).lines[0]
        except AirapError:
            continue
        for durs, rests in (rapped(engine, line, voice, bpms) if bpms else stretched(engine, line, voice, rng)):
            rows += line_strays(engine, aligner, vocab, line, voice, durs, rests, chain=bool(bpms))
    return rows


def line_strays(engine, aligner: ForcedAligner, vocab, line, voice: str, durs, rests, chain: bool) -> list[dict]:
    """One line sung on ``durs`` and ``rests`` (through the render's vocal chain when ``chain``): each
    vowel's heard onset minus the engine's (ms)."""
    sung = engine.sing(line, voice, durs, rests, lead_in=LINE_LEAD_IN, tail=LINE_TAIL)
    audio = vocal_chain(sung.audio, sung.sample_rate) if chain else sung.audio
    ids, where = line_tokens(line, vocab)
    starts = aligner.symbol_starts(audio, sung.sample_rate, ids)
    firsts = vowel_tokens(where, [s.vowel_index for s in line.syllables])
    rows = []
    for i, (syl, first, span) in enumerate(zip(line.syllables, firsts, sung.alignment.syllables)):
        if first is None:
            continue
        v = syl.vowel_index
        after_rest = i == 0 or rests[i - 1] > 0
        kind, d_prev = ("after_consonant", durs[i][v - 1]) if v else \
            (("after_silence", 0.0) if after_rest else ("after_syllable", durs[i - 1][-1]))
        rows.append({"stray_ms": (starts[first] - span.vowel_onset) * 1000, "kind": kind, "d_prev": d_prev})
    return rows


def summary(rows: list[dict]) -> dict:
    out = {}
    for kind in ("all", "after_consonant", "after_syllable", "after_silence"):
        e = np.array([r["stray_ms"] for r in rows if kind in ("all", r["kind"])])
        if len(e):
            out[kind] = {"syllables": len(e), "median_ms": round(float(np.median(e)), 1),
                         "within_20ms": round(float(np.mean(np.abs(e) <= 20)), 3),
                         "p95_abs_ms": round(float(np.percentile(np.abs(e), 95)), 1)}
    return out


def fit(rows: list[dict]) -> dict:
    """Least squares of stray (s) on the duration before the vowel, per class; strays beyond 60 ms
    (aligner misses) left out. After silence: the median stray."""
    silent = [x["stray_ms"] for x in rows if x["kind"] == "after_silence"]
    out = {"after_silence": round(float(np.median(silent)) / 1000, 4) if silent else None}
    for kind in ("after_consonant", "after_syllable"):
        r = [x for x in rows if x["kind"] == kind and abs(x["stray_ms"]) < 60]
        A = np.c_[np.ones(len(r)), [x["d_prev"] for x in r]]
        a, b = np.linalg.lstsq(A, np.array([x["stray_ms"] for x in r]) / 1000, rcond=None)[0]
        out[kind] = (round(float(a), 4), round(float(b), 3))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", default="fast")
    ap.add_argument("--lines", type=int, default=60, help="per language")
    ap.add_argument("--fit", action="store_true")
    ap.add_argument("--voice", default="kumo", help="the character that sings (kumo: the voice the shipped fit used)")
    ap.add_argument("--rapped", default="", help="tempi (BPM, comma-separated): the lines as the planner raps them")
    ap.add_argument("--candidate", default="", help="another OnsetLead measured in the same run: "
                    "CONS_A,CONS_B,SYL_A,SYL_B,SILENCE (seconds; B per second of the phoneme before)")
    a = ap.parse_args()
    engine, aligner = load_engine(a.engine, 1), ForcedAligner()
    bpms = tuple(float(b) for b in a.rapped.split(",") if b)
    shipped = engine.onset_lead
    texts = sample_lines(a.lines, seed=6)
    out = {"engine": a.engine, "voice": a.voice, "lines": len(texts), "rapped_bpm": list(bpms),
           "shipped_onset_lead": asdict(shipped) if shipped else None}
    leads = {"constant_lead_only": None, "with_onset_lead": shipped}
    if a.candidate:
        c = [float(x) for x in a.candidate.split(",")]
        leads["with_candidate"] = OnsetLead((c[0], c[1]), (c[2], c[3]), c[4])
        out["candidate_onset_lead"] = asdict(leads["with_candidate"])
    for key, lead in leads.items():
        engine.onset_lead = lead
        out[key] = summary(strays(engine, aligner, texts, seed=7, voice=a.voice, bpms=bpms))
    if a.fit:
        engine.onset_lead = None
        out["fit_on_other_lines"] = fit(strays(engine, aligner, sample_lines(a.lines, seed=5), seed=8,
                                                  voice=a.voice, bpms=bpms))
    engine.onset_lead = shipped
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
