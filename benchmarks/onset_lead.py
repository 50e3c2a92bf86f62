"""The vowel-onset correction measured on audio. Held-out corpus lines (never trained on, never in
grid.py) are sung with every syllable stretched at random (0.5-1.7x), or with ``--rapped BPM,...`` on
the durations and rests the flow planner gives them at those tempi (the shipped flow, from a bar's
start) and through the render's vocal chain, as a render sings them. The audio is forced-aligned
(airap.audit, which sees only audio and symbols), and each vowel's heard onset is compared with where
the engine says it put it.
Same run, same lines: the engine with its OnsetLead vs with the constant acoustic lead only.
``--fit`` also fits the stray on a *different* sample of lines with the correction off — how the
shipped coefficients were obtained (Kokoro's: ``--rapped 92,140 --voice rose``). Prints JSON.
``--per-character NAMES|all`` (Kokoro, with ``--rapped``): per character and language, the median
stray left by the engine's OnsetLead on that language's held-out lines, with the catalogue's
per-character ``onset_offset`` vs without, same run; with ``--fit`` instead the median without it on
a *different* sample of lines: the offset to put in the catalogue. Two characters at a time.
``--after-silence S1,S2,...`` (with ``--per-character``): the lead after silence (s) tried at each
value on the same lines (``--line-seed``), everything else as shipped; per value, the after-silence
vowels' stray against the rest of their character-language's at the shipped lead, pooled; and every
vowel after a sound against its character-language's median, pooled and per phoneme before it (how
far one voice's vowels spread; a stray per phoneme fitted on that was tried in session 33, commit
5f66481, and not kept).

    .venv/bin/python benchmarks/onset_lead.py --engine fast --lines 60 --fit   # needs setup.sh --train
    .venv/bin/python benchmarks/onset_lead.py --engine kokoro --voice rose --rapped 92,140 --lines 30 --fit
    .venv/bin/python benchmarks/onset_lead.py --engine kokoro --rapped 92,140 --lines 12 --per-character all --fit
    .venv/bin/python benchmarks/onset_lead.py --engine kokoro --rapped 92,140 --lines 12 \
        --per-character xi,mei,jian,wolf,duke --after-silence 0.040,0.020,0.005 --line-seed 5
"""

import argparse
import json
import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from airap import catalog
from airap.acoustic import apply_timbre, load_engine
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
    if voice in catalog.VOICES:  # a transformed character is heard after its transform, as a render sings it
        sung = apply_timbre(sung, catalog.VOICES[voice].timbre.semitones, catalog.VOICES[voice].timbre.effect)
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
        before = syl.phonemes[v - 1] if v else "" if after_rest else line.syllables[i - 1].phonemes[-1]
        rows.append({"stray_ms": (starts[first] - span.vowel_onset) * 1000, "kind": kind, "d_prev": d_prev,
                     "before": before, "vowel": syl.phonemes[v], "lang": syl.lang})
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


_WORKER: dict = {}


def _worker():
    """This worker process's Kokoro engine and judge, loaded on its first job."""
    if not _WORKER:
        _WORKER.update(engine=load_engine("kokoro", 1), aligner=ForcedAligner())
    return _WORKER["engine"], _WORKER["aligner"]


def _character_language(job: tuple[str, str, int, tuple[float, ...], bool]) -> dict:
    """One character in one language: the median stray with and without its onset offset on the
    check lines; with ``fit``, only the median without it on other lines (the offset to catalogue)."""
    voice, lang, n, bpms, want_fit = job
    engine, aligner = _worker()
    offsets = dict(engine.onset_offsets)
    half = lambda texts: texts[:n] if lang == "en" else texts[n:]  # noqa: E731
    out = {"character": voice, "lang": lang, "onset_offset_ms": round(offsets.get((voice, lang), 0.0) * 1000, 1)}
    if want_fit:
        engine.onset_offsets = {}
        rows = strays(engine, aligner, half(sample_lines(n, seed=5)), seed=8, voice=voice, bpms=bpms)
        out["fit_on_other_lines"] = summary(rows)
        out["fit_offset_ms"] = round(float(np.median([r["stray_ms"] for r in rows])), 1)
    else:
        for key, table in (("with_offset", offsets), ("without_offset", {})):
            engine.onset_offsets = table
            out[key] = summary(strays(engine, aligner, half(sample_lines(n, seed=6)), seed=7, voice=voice, bpms=bpms))
    engine.onset_offsets = offsets
    return out


def _after_silence_job(job: tuple[str, str, int, tuple[float, ...], tuple[float, ...], int]) -> dict:
    """One character in one language: the strays per class at each after-silence lead, same lines."""
    voice, lang, n, bpms, leads, seed = job
    engine, aligner = _worker()
    shipped = engine.onset_lead
    texts = sample_lines(n, seed)
    texts = texts[:n] if lang == "en" else texts[n:]
    out = {"character": voice, "lang": lang, "leads": {}}
    for lead in leads:
        engine.onset_lead = replace(shipped, after_silence=lead)
        out["leads"][f"{lead:.3f}"] = strays(engine, aligner, texts, seed=seed + 2, voice=voice, bpms=bpms)
    engine.onset_lead = shipped
    return out


def pooled(strays_ms: list[float]) -> dict:
    """A pool's count, median and share within 20 ms."""
    e = np.array(strays_ms)
    return {"syllables": len(e), "median_ms": round(float(np.median(e)), 1),
            "within_20ms": round(float(np.mean(np.abs(e) <= 20)), 3)}


def reliable_centres(rows: list[dict], key: str) -> dict[tuple[str, str], float]:
    """Per character-language the judge reads reliably (``catalog.ONSET_JUDGE_RELIABLE``): the median
    stray of its vowels that follow a sound, under variant ``key`` (the offset every vowel of that
    voice shares)."""
    out = {}
    for r in rows:
        base = [x["stray_ms"] for x in r["leads"][key] if x["kind"] != "after_silence"]
        if base and np.mean(np.abs(base) <= 20) >= catalog.ONSET_JUDGE_RELIABLE:
            out[(r["character"], r["lang"])] = float(np.median(base))
    return out


MIN_VOWELS_SHOWN = 40  # a phoneme's row in the centred table


def centred_table(rows: list[dict], centre_key: str) -> dict:
    """Per variant: every vowel that follows a sound against its character-language's median under
    ``centre_key``, pooled (how far the vowels of one voice spread), and per phoneme before it."""
    centres, out = reliable_centres(rows, centre_key), {}
    for r in rows:
        centre = centres.get((r["character"], r["lang"]))
        for key, xs in r["leads"].items() if centre is not None else ():
            for x in xs:
                if x["kind"] != "after_silence":
                    for pool in ("all", x["lang"], f"{x['lang']}:{x['before']}"):
                        out.setdefault(key, {}).setdefault(pool, []).append(x["stray_ms"] - centre)
    return {key: {pool: pooled(e) for pool, e in pools.items() if len(e) >= MIN_VOWELS_SHOWN}
            for key, pools in out.items()}


def after_silence_table(rows: list[dict], shipped: float) -> dict:
    """Per lead: the after-silence vowels' stray minus their character-language's median stray of the
    other classes at the shipped lead (the offset every vowel of that voice shares), pooled over the
    character-languages the judge reads reliably (``catalog.ONSET_JUDGE_RELIABLE``)."""
    centres, out = reliable_centres(rows, f"{shipped:.3f}"), {}
    for r in rows:
        centre = centres.get((r["character"], r["lang"]))
        for key, xs in r["leads"].items() if centre is not None else ():
            for pool in ("all", r["lang"]):
                out.setdefault(key, {}).setdefault(pool, []).extend(
                    x["stray_ms"] - centre for x in xs if x["kind"] == "after_silence")
    return {key: {pool: pooled(e) for pool, e in pools.items() if e} for key, pools in out.items()}


REFERENCE = ("rose", "en")  # the character and language Kokoro's OnsetLead was fitted on and grid.py checks


def catalogue_offsets(rows: list[dict]) -> dict[str, dict[str, float | None]]:
    """The fit's medians as catalogue offsets (ms): relative to the reference's, None (left at 0) where
    the judge found under ``ONSET_JUDGE_RELIABLE`` of the vowels within 20 ms."""
    ref = next(r["fit_offset_ms"] for r in rows if (r["character"], r["lang"]) == REFERENCE)
    out: dict[str, dict[str, float | None]] = {}
    for r in rows:
        reliable = r["fit_on_other_lines"]["all"]["within_20ms"] >= catalog.ONSET_JUDGE_RELIABLE
        out.setdefault(r["character"], {})[r["lang"]] = round(r["fit_offset_ms"] - ref, 1) if reliable else None
    return out


def per_character(names: list[str], n: int, bpms: tuple[float, ...], want_fit: bool) -> list[dict]:
    jobs = [(v, lang, n, bpms, want_fit) for v in names for lang in catalog.VOICES[v].languages]
    with ProcessPoolExecutor(2) as pool:
        return list(pool.map(_character_language, jobs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", default="fast")
    ap.add_argument("--lines", type=int, default=60, help="per language")
    ap.add_argument("--fit", action="store_true")
    ap.add_argument("--voice", default="kumo", help="the character that sings (kumo: the voice the shipped fit used)")
    ap.add_argument("--rapped", default="", help="tempi (BPM, comma-separated): the lines as the planner raps them")
    ap.add_argument("--candidate", default="", help="another OnsetLead measured in the same run: "
                    "CONS_A,CONS_B,SYL_A,SYL_B,SILENCE (seconds; B per second of the phoneme before)")
    ap.add_argument("--per-character", default="", help="characters (comma-separated, or all): see the docstring")
    ap.add_argument("--after-silence", default="", help="after-silence leads (s, comma-separated; the first is "
                    "the shipped one) tried per character: see the docstring")
    ap.add_argument("--line-seed", type=int, default=5, help="the lines' sample (--after-silence)")
    ap.add_argument("--rows", default="", help="also write every syllable's stray to this file (--after-silence)")
    a = ap.parse_args()
    bpms = tuple(float(b) for b in a.rapped.split(",") if b)
    names = list(catalog.VOICES) if a.per_character == "all" else [n for n in a.per_character.split(",") if n]
    if a.per_character and a.after_silence:
        leads = tuple(float(x) for x in a.after_silence.split(","))
        jobs = [(v, lang, a.lines, bpms, leads, a.line_seed) for v in names for lang in catalog.VOICES[v].languages]
        with ProcessPoolExecutor(2) as pool:
            rows = list(pool.map(_after_silence_job, jobs))
        if a.rows:
            Path(a.rows).write_text(json.dumps(rows, ensure_ascii=False))
        shipped = f"{leads[0]:.3f}"
        per = [{"character": r["character"], "lang": r["lang"],
                "leads": {k: summary(v) for k, v in r["leads"].items()}} for r in rows]
        out = {"engine": "kokoro", "lines_per_language": a.lines, "rapped_bpm": list(bpms),
               "line_seed": a.line_seed, "after_silence_leads_s": list(leads),
               "pooled_after_silence_vs_rest": after_silence_table(rows, leads[0]),
               "pooled_after_a_sound_vs_voice_median": centred_table(rows, shipped)}
        print(json.dumps({**out, "characters": per}, indent=1, ensure_ascii=False))
        return
    if a.per_character:
        rows = per_character(names, a.lines, bpms, a.fit)
        out = {"engine": "kokoro", "lines_per_language": a.lines, "rapped_bpm": list(bpms), "characters": rows}
        if a.fit and any((r["character"], r["lang"]) == REFERENCE for r in rows):
            out["catalogue_offsets_ms"] = catalogue_offsets(rows)
        print(json.dumps(out, indent=1, ensure_ascii=False))
        return
    engine, aligner = load_engine(a.engine, 1), ForcedAligner()
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
