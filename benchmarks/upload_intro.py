"""Where the lyrics start on an upload: where its drums come in (airap since session 21) against its
first downbeat (the baseline: airap before, on the same tracked grid), in one run.

Files: one or more sets made by ``benchmarks/tracking_set.py`` (their drum-machine files have intros of
0, 2 or 4 bars of pad and bass without drums; every other file has drums from its start), plus, with
``--arranged``, airap's own beats arranged with their style's intro (hats and a muffled band, no kick
or snare) before a verse and a hook, and with ``--unplugged`` every style's beat with its drums left out
of its first 2 or 4 bars (an intro of the style's own music and bass). The truth is the downbeat where the drums come in (for a file
without an intro, the first downbeat FIRST_LINE_ROOM or more into it, as the baseline's start too:
a line needs room for its consonants). A start is "on the entry" within a quarter of a beat of it,
"over the intro" earlier, "late" later; each file is read the way a render reads it
(``uploaded_backing``). Prints JSON: per set and split, files with and without an intro.

    .venv/bin/python benchmarks/upload_intro.py --set DIR [--set DIR ...] [--arranged] [--unplugged]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import soundfile as sf

warnings.filterwarnings("ignore")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from tracking_set import load  # noqa: E402

ON_ENTRY = 0.25  # beats either side of the true entry that count as on it


def entry_time(truth) -> tuple[float, int]:
    """The downbeat where the drums come in, and the intro's length in bars (0: drums from the start).
    A drum-machine file's intro counts bars from its uncut first bar; a pickup of P beats means the
    file starts just before that bar's beat P (``tracking_set.drum_machine_files``)."""
    from airap.beat.backing import FIRST_LINE_ROOM

    intro = re.search(r"intro (\d+) bars without drums", truth.note)
    bars = int(intro.group(1)) if intro else 0
    if not bars:  # the first downbeat that leaves the first line's consonants room before it
        return next(t for t in truth.downbeats if t >= FIRST_LINE_ROOM), 0
    pickup = re.search(r"pickup (\d+) beats", truth.note)
    first = int(pickup.group(1)) if pickup else 0
    return truth.beats[4 * bars - first], bars


def judge(start: float, entry: float, beat: float) -> str:
    if abs(start - entry) <= ON_ENTRY * beat:
        return "on_entry"
    return "over_intro" if start < entry else "late"


def read_file(args: tuple[str, float, float, int]) -> dict:
    from airap.beat import uploaded_backing
    from airap.beat.backing import FIRST_LINE_ROOM
    from airap.catalog import LIMITS

    path, entry, beat, bars = args
    b = uploaded_backing(path, 44100, LIMITS.upload)
    now = b.grid.slot_time(b.first_bar, 0)
    base = next(t for t in (b.grid.slot_time(k, 0) for k in range(b.grid.n_bars)) if t >= FIRST_LINE_ROOM)
    return {"file": Path(path).stem, "intro_bars": bars, "entry_s": round(entry, 3),
            "detected_intro_bars": b.first_bar, "start_s": round(now, 3), "base_start_s": round(base, 3),
            "now": judge(now, entry, beat), "base": judge(base, entry, beat)}


def arranged_files(out: Path) -> list[tuple[str, float, float, int]]:
    """Every style at its default tempo: its intro, an 8-bar verse and an 8-bar hook, arranged."""
    from airap import catalog
    from airap.beat import BeatGrid, generate_beat
    from airap.beat.arrange import Section, arrange

    files = []
    for k, style in enumerate(catalog.STYLES.values()):
        intro = style.intro_bars
        grid = BeatGrid.regular(style.default_bpm, intro + 17, swing=style.swing)
        sections = ((Section("intro", "intro", 0, intro),) if intro else ()) + (
            Section("verse", "verse", intro, 8), Section("hook", "hook", intro + 8, 8))
        audio = generate_beat(style, grid, arrange(style, sections, seed=k), seed=k).audio
        path = out / f"arranged_{style.name}_{int(style.default_bpm)}.wav"
        sf.write(path, audio, 44100)
        files.append((str(path), grid.slot_time(intro, 0), 60 / style.default_bpm, intro))
    return files


def unplugged_files(out: Path) -> list[tuple[str, float, float, int]]:
    """A second source of intros: every style's beat (a verse, 12 bars) with its drum stem left out
    of the first 2 or 4 bars, so the intro is the style's own music and bass."""
    from airap import catalog
    from airap.beat import BeatGrid, generate_beat

    files = []
    for k, style in enumerate(catalog.STYLES.values()):
        intro = 2 if k % 2 else 4
        grid = BeatGrid.regular(style.default_bpm, 12, swing=style.swing)
        beat = generate_beat(style, grid, seed=100 + k)
        cut = int(round(grid.slot_time(intro, 0) * 44100))
        audio = beat.audio.copy()
        audio[:cut] -= beat.stems["drums"][:cut]
        path = out / f"unplugged_{style.name}_{int(style.default_bpm)}_{intro}.wav"
        sf.write(path, audio[: int(round(grid.slot_time(12, 0) * 44100))], 44100)
        files.append((str(path), grid.slot_time(intro, 0), 60 / style.default_bpm, intro))
    return files


def summary(rows: list[dict]) -> dict:
    out = {}
    for group, pick in (("with_intro", lambda r: r["intro_bars"] > 0), ("without_intro", lambda r: r["intro_bars"] == 0)):
        sel = [r for r in rows if pick(r)]
        if sel:
            out[group] = {"files": len(sel), **{who: {k: sum(r[who] == k for r in sel) for k in ("on_entry", "over_intro", "late")}
                                                for who in ("now", "base")}}
            if group == "without_intro":  # a start moved off the right downbeat by an intro that is not there
                out[group]["false_intro"] = sum(r["base"] == "on_entry" and r["now"] != "on_entry" for r in sel)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", action="append", default=[], help="a folder made by tracking_set.py (repeatable)")
    ap.add_argument("--arranged", action="store_true", help="also airap's own arranged beats with an intro")
    ap.add_argument("--unplugged", action="store_true",
                    help="also every style's beat with its drums left out of the first 2 or 4 bars")
    args = ap.parse_args()
    jobs: dict[str, list[tuple[str, float, float, int]]] = {}
    for folder in map(Path, args.set):
        for t in load(folder):
            entry, bars = entry_time(t)
            jobs.setdefault(f"{folder.name}:{t.split}", []).append((str(folder / f"{t.name}.wav"), entry, 60 / t.bpm, bars))
    with tempfile.TemporaryDirectory() as tmp:
        if args.arranged:
            jobs["arranged"] = arranged_files(Path(tmp))
        if args.unplugged:
            jobs["unplugged"] = unplugged_files(Path(tmp))
        report = {}
        with ProcessPoolExecutor(2) as pool:
            for name, files in jobs.items():
                rows = list(pool.map(read_file, files))
                report[name] = {"summary": summary(rows), "files": rows}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
