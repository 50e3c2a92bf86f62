"""Lyrics studio accuracy and speed on hand-labelled verses (benchmarks/data/rhymes/{en,zh}.yaml).

    .venv/bin/python benchmarks/rhyme.py

- End rhymes: for every pair of lines in a verse, "these two line ends rhyme" (same scheme letter),
  predicted vs labelled: precision / recall / F1, per language, dev and held-out reported apart
  (every third verse is held out and never touched a rule; ``en_fresh.yaml`` is a second English
  held-out set, written in session 7 before the near-vowel and coda-extension rules; ``en_fresh2.yaml`` a
  third, written in session 10 before that session's slant rules). Baseline in the same run: the previous
  `/v1/analyze` rule (two lines rhyme when their last syllables' IPA rimes are equal).
- Multisyllabic rhymes: labelled line pairs vs predicted pairs (two or more syllables matching).
- An independent Mandarin check: the regulated verse of 唐诗三百首 (Debian fortunes-zh), labelled by its
  poets' rhyme positions (even lines rhyme; odd lines after the first do not).
- Suggestions: for 100 held-out words (50 English, 50 Mandarin: the line ends of the held-out verses),
  the share of the top 20 that rhyme by the analysis's own comparison (pronounced again through the
  text front-end, not the index) and the share among the 50,000 most frequent words.
- Speed: a 40-line song analysed (median of 20), a suggestion query (median), the index builds.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import warnings
from itertools import combinations
from pathlib import Path

import yaml

warnings.filterwarnings("ignore")
DATA = Path(__file__).resolve().parent / "data" / "rhymes"


def load(lang: str) -> list[dict]:
    """The language's verses, split: every third of ``{lang}.yaml`` is held out; ``{lang}_fresh.yaml``
    (written later, before the rules it measures) is a second held-out set, all of it."""
    verses = yaml.safe_load((DATA / f"{lang}.yaml").read_text(encoding="utf-8"))
    for k, v in enumerate(verses):
        v["split"] = "heldout" if k % 3 == 2 else "dev"
    for fresh in sorted(DATA.glob(f"{lang}_fresh*.yaml")):  # en_fresh -> heldout_fresh, en_fresh2 -> heldout_fresh2
        for v in yaml.safe_load(fresh.read_text(encoding="utf-8")):
            verses.append({**v, "split": "heldout" + fresh.stem[len(lang):]})
    for v in verses:
        v["scheme"] = v["scheme"].replace(" ", "")
    return verses


def prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0,
            "tp": tp, "fp": fp, "fn": fn}


def score(verses: list[dict], lang: str) -> dict:
    from airap.studio import analyze_song
    from airap.text import parse_lyrics

    out = {}
    for split in dict.fromkeys(v["split"] for v in verses):
        counts = {"end": [0, 0, 0], "multi": [0, 0, 0], "baseline_end": [0, 0, 0]}
        misses = []
        for v in (x for x in verses if x["split"] == split):
            song = parse_lyrics("\n".join(v["lines"]), lang)
            assert len(song.lines) == len(v["lines"]), v["lines"]
            a = analyze_song(song)
            pred = [ln.scheme for ln in a.lines]
            base = [ln.syllables[-1].rhyme for ln in song.lines]
            for i, j in combinations(range(len(v["lines"])), 2):
                truth = v["scheme"][i] == v["scheme"][j]
                for name, guess in (("end", pred[i] == pred[j]), ("baseline_end", base[i] == base[j])):
                    c = counts[name]
                    c[0] += truth and guess
                    c[1] += guess and not truth
                    c[2] += truth and not guess
                if truth != (pred[i] == pred[j]) and len(misses) < 12:
                    misses.append(f"{'missed' if truth else 'false'}: {v['lines'][i][-12:]} / {v['lines'][j][-12:]}")
            truth_multi = {tuple(sorted(p)) for p in v["multi"]}
            pred_multi = {(m.first, m.second) for m in a.multis}
            c = counts["multi"]
            c[0] += len(truth_multi & pred_multi)
            c[1] += len(pred_multi - truth_multi)
            c[2] += len(truth_multi - pred_multi)
        out[split] = {name: prf(*c) for name, c in counts.items()}
        out[split]["examples_wrong"] = misses
    return out


def suggestions(verses_by_lang: dict) -> dict:
    from wordfreq import top_n_list

    from airap.studio import suggest
    from airap.studio.analysis import line_end
    from airap.studio.rhyme import compare
    from airap.text import parse_lyrics

    out = {}
    for lang, verses in verses_by_lang.items():
        common = set(top_n_list(lang, 50_000))
        words = []
        for v in (x for x in verses if x["split"] == "heldout"):
            for line in parse_lyrics("\n".join(v["lines"]), lang).lines:
                end = line_end(line, "shisan")
                w = line.words[-1].text if lang == "en" else line.words[-1].text
                if end and w not in words:
                    words.append(w)
        words = words[:50]
        rhymes = total = frequent = 0
        times = []
        for w in words:
            t = time.perf_counter()
            s = suggest(w, lang)
            times.append(time.perf_counter() - t)
            q = line_end(parse_lyrics(w, lang).lines[0], "shisan")
            for r in s.rhymes:
                e = line_end(parse_lyrics(r.text, lang).lines[0], "shisan")
                total += 1
                rhymes += bool(e and q and compare(q.unit, e.unit))
                frequent += r.text in common
        out[lang] = {"words": len(words), "suggestions": total, "true_rhymes": round(rhymes / max(total, 1), 3),
                     "common_top50k": round(frequent / max(total, 1), 3),
                     "query_ms_median": round(1000 * statistics.median(times), 1),
                     "query_ms_max": round(1000 * max(times), 1)}
    return out


TANG300 = Path("/usr/share/games/fortunes/tang300")  # Debian fortunes-zh: 唐诗三百首 (public domain)


def regulated_poems() -> list[list[str]]:
    """The regulated verse (绝句, 律诗: 4 or 8 lines of 5 or 7 characters) of 唐诗三百首, one list of
    lines per poem."""
    import re

    if not TANG300.exists():
        return []
    text = re.sub(r"\x1b\[[0-9;]*m", "", TANG300.read_text(encoding="utf-8", errors="ignore"))
    poems = []
    for block in text.split("\n%\n"):
        body = "".join(block.strip().splitlines()[2:])  # title, author, then the poem
        lines = [x for x in re.split(r"[，。？！；、]", body) if x]
        if len(lines) in (4, 8) and len({len(x) for x in lines}) == 1 and len(lines[0]) in (5, 7) \
                and all(re.fullmatch(r"[\u4e00-\u9fff]+", x) for x in lines):
            poems.append(lines)
    return poems


def poets_labels() -> dict:
    """An independent Mandarin check, labelled by the poets: in regulated verse every even line ends
    on the poem's one rhyme, and the odd lines after the first do not rhyme (the first may or may
    not, so its pairs are left out). Predicted on today's pronunciation (pypinyin), so rhymes that
    Middle Chinese had and Mandarin lost count as misses: a floor for the analyser, not its ceiling."""
    from pypinyin import Style, pinyin

    from airap.studio import analyze_song
    from airap.text import parse_lyrics

    def level(ch: str) -> bool:  # 平声 in today's Mandarin: tones 1 and 2
        return pinyin(ch, style=Style.TONE3, neutral_tone_with_five=True)[0][0][-1:] in ("1", "2")

    # 近体诗 rhymes on level tones; a poem whose even lines end on oblique tones is 古体 or a rhyme
    # that today's tones no longer show: left out
    poems = [p for p in regulated_poems() if all(level(x[-1]) for x in p[1::2])]
    counts = {"shisan": [0, 0, 0], "xinyun": [0, 0, 0]}
    misses = []
    for lines in poems:
        song = parse_lyrics("\n".join(lines), "zh")
        for system, c in counts.items():
            pred = [ln.scheme for ln in analyze_song(song, zh_classes=system).lines]
            for i, j in combinations(range(1, len(lines)), 2):
                if i % 2 == 0 and j % 2 == 0:
                    continue  # two odd lines (1-based 3, 5, 7): no label either way in the form
                truth = i % 2 == 1 and j % 2 == 1
                guess = pred[i] == pred[j]
                c[0] += truth and guess
                c[1] += guess and not truth
                c[2] += truth and not guess
                if system == "shisan" and truth != guess and len(misses) < 12:
                    misses.append(f"{'missed' if truth else 'false'}: {lines[i][-2:]} / {lines[j][-2:]}")
    return {"poems": len(poems), **{system: prf(*c) for system, c in counts.items()}, "examples_wrong": misses}


def speed(verses_by_lang: dict) -> dict:
    from airap.studio import analyze_song, suggest
    from airap.studio.suggest import en_index, zh_index
    from airap.text import parse_lyrics

    lines = [ln for lang in ("en", "zh") for v in verses_by_lang[lang] for ln in v["lines"]][:40]
    song = parse_lyrics("\n".join(lines))
    analyze_song(song)
    times = []
    for _ in range(20):
        t = time.perf_counter()
        analyze_song(song)
        times.append(time.perf_counter() - t)
    t = time.perf_counter()
    parse_lyrics("\n".join(lines))
    parse_ms = 1000 * (time.perf_counter() - t)
    builds = {}
    for name, fn in (("en", en_index), ("zh", zh_index)):
        fn.cache_clear()
        t = time.perf_counter()
        fn()
        builds[name] = round(time.perf_counter() - t, 2)
    suggest("money", "en")
    return {"analyze_40_lines_ms_median": round(1000 * statistics.median(times), 1),
            "parse_40_lines_ms": round(parse_ms, 1), "index_build_s": builds}


def main() -> None:
    verses = {lang: load(lang) for lang in ("en", "zh")}
    result = {"command": " ".join(["benchmarks/rhyme.py"] + sys.argv[1:]),
              "verses": {lang: {**{split: sum(v["split"] == split for v in vs)
                                   for split in dict.fromkeys(v["split"] for v in vs)},
                                "multi_pairs": sum(len(v["multi"]) for v in vs)} for lang, vs in verses.items()},
              "scores": {lang: score(vs, lang) for lang, vs in verses.items()},
              "zh_poets_labels": poets_labels(),
              "suggestions": suggestions(verses), "speed": speed(verses)}
    print(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
