"""Rhyme-aware flow: how often rhyming syllables land on strong beats, and rhyming lines put their
last rhyme on the same slot of the bar, planned without and with the lyrics studio's rhyme placement
(same verses, same natural timings, same run).

    .venv/bin/python benchmarks/rhyme_flow.py [--engine fast] [--bpm 92]

Verses: the hand-labelled sets of benchmarks/data/rhymes (dev and held-out reported apart; the two
weights were set on dev). Rhyming syllables are the studio's (end rhymes shared with another line, and
the full vowels of multisyllabic rhymes); a strong beat is a slot on a beat (strength >= 0.6 in the
template: beats 1-4), the downbeat and beat 3 also reported.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings

warnings.filterwarnings("ignore")
sys.path.insert(0, __file__.rsplit("/", 1)[0])
from rhyme import load  # noqa: E402


def measure(plans, placements, tpls) -> dict:
    on_beat = downbeat_or_3 = total = pairs = same = 0
    stretches = [s.stretch for plan in plans for s in plan.syllables[:-1]]  # the last one holds to the bar end
    landed: dict = {}
    for plan, rh, tpl in zip(plans, placements, tpls):
        strength = tpl.strengths()
        for i in rh.syllables:
            slot = plan.syllables[i].slot % tpl.slots_per_bar
            total += 1
            on_beat += strength[slot] >= 0.6
            downbeat_or_3 += strength[slot] >= 0.8
        if rh.letter and rh.syllables:
            slot = plan.syllables[max(rh.syllables)].slot % tpl.slots_per_bar
            if rh.letter in landed:
                pairs += 1
                same += slot == landed[rh.letter]
            landed[rh.letter] = slot
    return {"rhyme_syllables": total, "on_a_beat": round(on_beat / max(total, 1), 3),
            "on_beat_1_or_3": round(downbeat_or_3 / max(total, 1), 3),
            "rhyming_line_pairs": pairs, "same_slot_as_partner": round(same / max(pairs, 1), 3),
            "stretch_outside_0.5_2": round(sum(not 0.5 <= x <= 2 for x in stretches) / max(len(stretches), 1), 3),
            "bars": sum(p.bars for p in plans)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", default="fast")
    ap.add_argument("--bpm", type=float, default=92)
    a = ap.parse_args()
    from airap import catalog
    from airap.acoustic import load_engine
    from airap.beat import BeatGrid
    from airap.flow import LineRhymes, plan_song
    from airap.studio import rhyme_placement
    from airap.text import parse_lyrics

    engine = load_engine(a.engine)
    voices = catalog.engine_voices(a.engine)
    tpl = catalog.get_flow("straight")
    out = {"command": " ".join(["benchmarks/rhyme_flow.py"] + sys.argv[1:]), "engine": a.engine, "bpm": a.bpm}
    for lang in ("en", "zh"):
        voice = catalog.default_voice(lang, voices)
        for split in ("dev", "heldout"):
            before, after = [], []
            for v in (x for x in load(lang) if x["split"] == split):
                song = parse_lyrics("\n".join(v["lines"]), lang)
                naturals = [engine.natural_timing(ln, voice) for ln in song.lines]
                tpls = [tpl] * len(song.lines)
                grid = BeatGrid.regular(a.bpm, 8 * len(song.lines) + 2)
                placement = rhyme_placement(song)
                plain = plan_song(song.lines, naturals, grid, tpls, 1)
                aware = plan_song(song.lines, naturals, grid, tpls, 1, rhymes=placement)
                before.append((plain.lines, placement, tpls))
                after.append((aware.lines, placement, tpls))

            def total(runs):
                plans = [p for r in runs for p in r[0]]
                rh = [LineRhymes(x.syllables, f"{k}{x.letter}" if x.letter else None)  # letters per verse
                      for k, r in enumerate(runs) for x in r[1]]
                tp = [t for r in runs for t in r[2]]
                return measure(plans, rh, tp)
            out[f"{lang}_{split}"] = {"before": total(before), "after": total(after)}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
