"""Training corpus for our acoustic model, synthesised by the Kokoro teacher in the cast's voices
(``catalog.VOICES``: a Mandarin line is read only by a character that speaks Mandarin, in its
Mandarin style; an English line by any). Text: Debian's `fortunes` (English) and `fortunes-zh`
(Mandarin: Tang/Song poems and sayings) split into lines, plus lyric-like lines made here (hooks,
numbers, tongue twisters).

A share of the lines (``rapped_share``) is read rapped: planned by the flow planner on a random
tempo and flow, then sung by the teacher on those durations in whole frames, so the student learns
the stretched timing a render asks of it, not only the teacher's natural pace.

Deterministic from a seed; a held-out split (text only, >= 8,000 lines, half EN half ZH) is written
first and never synthesised for training. Shards of 50 utterances are written atomically, so a
build stopped at any time resumes where it was; a folder built from another recipe is refused.

Each utterance: token ids (Kokoro symbol ids, same layout as the engines), teacher frames per token
(25 ms), speaker id, WORLD features [2 * frames, FEATURE_DIM].
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..catalog import VOICES, entry
from ..corpus import SHARD, Utterance, write_shard
from ..errors import SetupError

FORTUNES = Path("/usr/share/games/fortunes")
ZH_FILES = ("chinese", "tang300", "song100")


@dataclass(frozen=True)
class CorpusRecipe:
    name: str = "cast-1"  # the cast's corpus (the first recipe, Japanese packs, is in git history)
    seed: int = 1234
    heldout_per_lang: int = 4000
    voices: tuple[str, ...] = tuple(VOICES)  # speaker id = index
    max_en_words: int = 12
    zh_chars: tuple[int, int] = (4, 14)
    rapped_share: float = 0.35
    rap_bpm: tuple[float, float] = (76.0, 104.0)
    # flows drawn for rapped lines, repeated by weight: mostly the default flow, some of every other
    rap_flows: tuple[str, ...] = ("straight", "straight", "straight", "laid-back", "triplet", "double-time", "sung")


def speakers_of(recipe: CorpusRecipe, lang: str) -> list[int]:
    """Speaker ids of the characters that speak ``lang``."""
    return [k for k, name in enumerate(recipe.voices) if lang in entry(name).languages]


def english_lines() -> list[str]:
    if not FORTUNES.is_dir():
        raise SetupError("the corpus text comes from Debian: apt-get install fortunes fortunes-zh")
    out = set()
    for f in sorted(FORTUNES.iterdir()):
        if "." in f.name or f.name in ZH_FILES or f.is_dir():
            continue
        text = f.read_text(encoding="utf-8", errors="ignore")
        for s in re.split(r"(?<=[.!?])\s+|\n%\n", text):
            s = " ".join(s.split())
            if re.fullmatch(r"[A-Za-z ,.!?']{12,90}", s) and 3 <= len(s.split()) <= 12:
                out.add(s)
    return sorted(out)


def mandarin_lines(lo: int, hi: int) -> list[str]:
    out = set()
    for name in ZH_FILES:
        path = FORTUNES / name
        if not path.exists():
            continue
        text = re.sub(r"\x1b\[[0-9;]*m", "", path.read_text(encoding="utf-8", errors="ignore"))
        for piece in re.split(r"[，。！？；：、\s%「」《》“”（）·・—…,.!?;:()\[\]]+", text):
            if re.fullmatch(f"[\u4e00-\u9fff]{{{lo},{hi}}}", piece):
                out.add(piece)
    return sorted(out)


def lyric_lines(rng: random.Random, n: int) -> list[str]:
    """Rap-like lines: short hooks, repeats, numbers, fast alliteration; EN and ZH."""
    en_words = ("flow", "beat", "rhyme", "mic", "city", "night", "money", "dream", "fire", "gold", "crowd",
                "bass", "street", "time", "light", "heart", "game", "king", "road", "rain")
    zh_words = ("节奏", "梦想", "城市", "夜晚", "舞台", "音乐", "兄弟", "未来", "自由", "灯光", "心跳", "时间")
    out = []
    for _ in range(n):
        k = rng.random()
        if k < 0.25:
            w = rng.choice(en_words)
            out.append(", ".join([f"{w} {rng.choice(en_words)}"] * rng.randint(2, 4)))
        elif k < 0.45:
            out.append(f"I got {rng.randint(2, 999)} {rng.choice(en_words)}s and {rng.randint(1, 60)} more on the way")
        elif k < 0.6:
            a = rng.choice("bcdfgklmpst")
            out.append(" ".join(w for w in rng.sample([x for x in en_words if x[0] == a] or en_words, k=1) * 3)
                       + f" {rng.choice(en_words)} on the {rng.choice(en_words)}")
        elif k < 0.8:
            out.append(rng.choice(zh_words) * rng.randint(2, 3) + rng.choice(zh_words))
        else:
            out.append(f"{rng.choice(zh_words)}{rng.randint(1, 99)}个{rng.choice(zh_words)}")
    return out


def splits(recipe: CorpusRecipe) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(train, heldout) lists of (lang, text), deterministic from the recipe."""
    rng = random.Random(recipe.seed)
    en, zh = english_lines(), mandarin_lines(*recipe.zh_chars)
    rng.shuffle(en)
    rng.shuffle(zh)
    n = recipe.heldout_per_lang
    heldout = [("en", t) for t in en[:n]] + [("zh", t) for t in zh[:n]]
    lyr = lyric_lines(rng, 600)
    train_en = en[n:]
    train_zh = zh[n : n + len(train_en) + 2000]
    train = [("en", t) for t in train_en] + [("zh", t) for t in train_zh]
    train += [("zh" if re.search("[\u4e00-\u9fff]", t) else "en", t) for t in lyr]
    rng.shuffle(train)
    return train, heldout


@dataclass(frozen=True)
class Reading:
    """How one corpus line is read: by whom, and rapped (at ``bpm`` on ``flow``) or at natural pace."""

    speaker: int
    rapped: bool
    bpm: float = 0.0
    flow: str = ""


def plan_readings(recipe: CorpusRecipe, train: list[tuple[str, str]], salt: int = 0) -> list[Reading]:
    """One reading per training line, deterministic from the recipe."""
    rng = random.Random(recipe.seed + 1 + salt)
    by_lang = {lang: speakers_of(recipe, lang) for lang in ("en", "zh")}
    out = []
    for lang, _ in train:
        speaker = rng.choice(by_lang[lang])
        if rng.random() < recipe.rapped_share:
            out.append(Reading(speaker, True, round(rng.uniform(*recipe.rap_bpm), 1), rng.choice(recipe.rap_flows)))
        else:
            out.append(Reading(speaker, False))
    return out


def make_utterance(engine, text: str, lang: str, reading: Reading, voices: tuple[str, ...]) -> Utterance | None:
    """One teacher reading -> an utterance (None if nothing voiceable, or a rapped line that fits no plan)."""
    from ..acoustic import LINE_LEAD_IN, LINE_TAIL
    from ..beat.grid import BeatGrid
    from ..catalog import get_flow
    from ..errors import InputError
    from ..flow import MAX_BARS, plan_line
    from ..text import analyze_line
    from ..waveform import world_features

    try:
        line, _ = analyze_line(text, lang)
    except Exception:  # a corpus line the front-end rejects is skipped, not fatal
        return None
    if line is None:
        return None
    voice = voices[reading.speaker]
    if reading.rapped:
        grid = BeatGrid.regular(reading.bpm, MAX_BARS + 1)
        try:
            plan = plan_line(line, engine.natural_timing(line, voice), grid, 0, get_flow(reading.flow))
        except InputError:
            return None
        rests = [s.rest_after for s in plan.syllables]
        rests[-1] = 0.0  # the rest of the last bar is not part of the line
        read = engine.teacher_rap(line, voice, [list(s.phoneme_durations) for s in plan.syllables], rests,
                                  LINE_LEAD_IN, LINE_TAIL)
    else:
        read = engine.teacher_read(line, voice)
    feats = world_features(read.audio, frames=2 * int(sum(read.frames)))
    audio = np.round(np.clip(read.audio, -1.0, 1.0) * 32767).astype(np.int16)  # for a vocoder
    return {"ids": np.asarray(read.ids, np.int16), "frames": np.asarray(read.frames, np.int16),
            "speaker": reading.speaker, "feats": feats.astype(np.float16), "text": text, "lang": lang,
            "rapped": reading.rapped, "audio": audio}


def check_recipe(out_dir: Path, recipe: CorpusRecipe) -> None:
    """Write the recipe into a new corpus folder; refuse a folder built from another one."""
    path = out_dir / "recipe.json"
    mine = json.loads(json.dumps(asdict(recipe)))
    if path.exists():
        theirs = json.loads(path.read_text())
        if theirs != mine:
            raise SetupError(f"{out_dir} holds a corpus built from another recipe ({theirs.get('name', 'the first')}); "
                             "build into an empty folder (--out)")
    else:
        path.write_text(json.dumps(mine, indent=1))


def build(out_dir: Path, recipe: CorpusRecipe = CorpusRecipe(), max_utterances: int | None = None,
          threads: int = 1, lang: str | None = None, log=print) -> None:
    """Synthesise shards until `max_utterances`. `lang` ("en"/"zh") grows a separate one-language series
    (`shard_en_*`) from the same deterministic split, so a language can be topped up without touching the
    shards already built."""
    from ..acoustic import load_engine

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    check_recipe(out_dir, recipe)
    train, heldout = splits(recipe)
    if not (out_dir / "heldout.txt").exists():
        (out_dir / "heldout.txt").write_text("\n".join(t for _, t in heldout) + "\n", encoding="utf-8")
    prefix = "shard_"
    if lang is not None:
        train = [item for item in train if item[0] == lang]
        prefix = f"shard_{lang}_"
        # skip the lines the mixed series already synthesised, so no line is read twice
        done = {str(t) for p in sorted(out_dir.glob("shard_[0-9]*.npz")) for t in np.load(p, allow_pickle=True)["text"]}
        train = [item for item in train if item[1] not in done]
    engine = load_engine("kokoro", threads=threads)  # the teacher
    readings = plan_readings(recipe, train, salt=0 if lang is None else len(lang))
    total = len(train) if max_utterances is None else min(max_utterances, len(train))
    t0 = time.time()
    for shard in range(0, total, SHARD):
        path = out_dir / f"{prefix}{shard // SHARD:05d}.npz"
        if path.exists():
            continue
        utts, audio_s = [], 0.0
        for i in range(shard, min(shard + SHARD, total)):
            line_lang, text = train[i]
            utt = make_utterance(engine, text, line_lang, readings[i], recipe.voices)
            if utt is not None:
                utts.append(utt)
                audio_s += utt["frames"].sum() * 0.025
        write_shard(path, utts)
        log(f"shard {shard // SHARD}: {len(utts)} utterances, {audio_s:.0f} s audio, "
            f"{time.time() - t0:.0f} s elapsed")


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="build the teacher corpus (resumable)")
    ap.add_argument("--out", default=os.environ.get("AIRAP_CORPUS", "corpus"))
    ap.add_argument("--max", type=int, default=None)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--lang", choices=["en", "zh"], default=None)
    a = ap.parse_args()
    build(Path(a.out), max_utterances=a.max, threads=a.threads, lang=a.lang)
