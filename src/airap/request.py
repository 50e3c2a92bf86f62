"""What a person asks for (``RenderRequest``) and what it resolves to (``RenderSettings``).

:func:`resolve` is pure: request + parsed song + catalogue -> every choice made (voice and flow per
line, style, tempo, formats), or one clear ``InputError`` before any work is done.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import catalog
from .beat import BeatStyle, probe_instrumental
from .errors import InputError
from .flow import FlowTemplate
from .text import Song
from .text.types import main_lang


@dataclass(frozen=True)
class RenderRequest:
    lyrics: str
    voice: str | None = None  # None: the sheet's voice, else the catalogue default
    beat: str | None = None  # style name; None: the sheet's, else the catalogue default
    bpm: float | None = None
    lang: str = "auto"
    seed: int = 0
    flow: str | None = None  # default template for lines without one
    instrumental: str | None = None  # path of an uploaded instrumental (replaces the generated beat)
    formats: tuple[str, ...] = ("wav",)
    bpm_hint: float | None = None  # an upload's tempo, when the tracker misreads it
    downbeat_hint: float | None = None  # seconds into the upload where a bar starts
    keep_length: bool = False  # keep the upload's own length (else it ends a bar after the last line)
    intro_bars: int | None = None  # an upload's bars before the lyrics (None: where its drums come in)
    sing_hooks: bool = False  # hook lines that do not say otherwise are sung, on a composed melody
    accents: bool = True  # rapped syllables on the beat hit higher and louder (off: a flat reading)


@dataclass(frozen=True)
class RenderSettings:
    """Every choice of one render, resolved: the stages read these and nothing else."""

    line_voices: tuple[str, ...]  # voice name per line (the lead)
    line_crews: tuple[tuple[str, ...], ...]  # per line, more voices singing it in unison
    line_flows: tuple[FlowTemplate, ...]  # template per line
    style: BeatStyle
    bpm: float  # the generated beat's tempo (an upload's is tracked)
    seed: int
    formats: tuple[str, ...]
    instrumental: str | None
    warnings: tuple[str, ...] = ()
    bpm_hint: float | None = None
    downbeat_hint: float | None = None
    keep_length: bool = False
    intro_bars: int | None = None
    accents: bool = True


def song_lang(song: Song) -> str:
    """The language most of the song's syllables are in."""
    return main_lang([s for line in song.lines for s in line.syllables])


def check_request(req: RenderRequest, voices: tuple[str, ...]) -> None:
    """The options that can be checked without the lyrics (CLI and HTTP check these up front);
    ``voices``: the ones the engine can sing (``catalog.engine_voices``)."""
    if req.voice is not None:
        catalog.get_voice(req.voice, voices)
    if req.beat is not None:
        catalog.get_style(req.beat)
    if req.bpm is not None:
        catalog.check_bpm(req.bpm)
    if req.flow is not None:
        catalog.get_flow(req.flow)
    if req.lang not in catalog.LANGUAGES:
        raise InputError(f"unknown language {req.lang!r}: use {', '.join(catalog.LANGUAGES)}")
    catalog.check_seed(req.seed)
    if req.instrumental is not None:  # the header now, so a bad file fails before models load
        probe_instrumental(req.instrumental, catalog.LIMITS.upload)
    if req.bpm_hint is not None:
        catalog.check_bpm(req.bpm_hint)
    if req.downbeat_hint is not None:
        try:
            ok = 0 <= float(req.downbeat_hint) < catalog.LIMITS.upload.max_seconds
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise InputError(f"the downbeat hint must be a time in seconds within the instrumental, got "
                             f"{str(req.downbeat_hint)[:20]!r}")
    if req.intro_bars is not None:
        catalog.check_intro_bars(req.intro_bars)
    if (req.bpm_hint is not None or req.downbeat_hint is not None or req.keep_length
            or req.intro_bars is not None) and req.instrumental is None:
        raise InputError("--bpm-hint, --downbeat-hint, --intro-bars and --keep-length apply to an uploaded "
                         "instrumental only")
    bad = set(req.formats) - set(catalog.FORMATS)
    if bad:
        raise InputError(f"unknown format {sorted(bad)[0]!r}: use {' or '.join(catalog.FORMATS)}")


def resolve(req: RenderRequest, song: Song, voices: tuple[str, ...]) -> RenderSettings:
    """Request + song sheet + catalogue -> RenderSettings (``voices``: the engine's). The request wins
    over the sheet, a line's own choice over both, the catalogue's defaults fill the rest."""
    check_request(req, voices)
    default_voice = catalog.get_voice(req.voice or song.voice or catalog.default_voice(song_lang(song), voices),
                                      voices).name
    warnings: list[str] = []
    line_voices = tuple(_speaks(catalog.get_voice(ln.voice, voices).name if ln.voice else default_voice, ln, voices,
                                warnings) for ln in song.lines)
    line_crews = tuple(tuple(_speaks(catalog.get_voice(name, voices).name, ln, voices, warnings) for name in ln.crew)
                       for ln in song.lines)
    default_flow = req.flow or song.flow
    flows = tuple(catalog.get_flow(line.flow or (catalog.SUNG_FLOW if line.sing else default_flow)) for line in song.lines)
    style = catalog.get_style(req.beat or song.beat or catalog.DEFAULT_STYLE)
    bpm = catalog.check_bpm(req.bpm if req.bpm is not None else (song.bpm or style.default_bpm))
    lo, hi = style.bpm_range
    if not req.instrumental and not lo <= bpm <= hi:
        warnings.append(f"{bpm:g} BPM is outside {style.name}'s natural range ({lo}-{hi} BPM): rendering anyway")
    return RenderSettings(line_voices=line_voices, line_crews=line_crews, line_flows=flows, style=style, bpm=bpm,
                          seed=req.seed, formats=tuple(req.formats), instrumental=req.instrumental,
                          warnings=tuple(warnings), bpm_hint=req.bpm_hint,
                          downbeat_hint=None if req.downbeat_hint is None else float(req.downbeat_hint),
                          keep_length=req.keep_length,
                          intro_bars=None if req.intro_bars is None else catalog.check_intro_bars(req.intro_bars),
                          accents=req.accents)


def _speaks(voice: str, line, voices: tuple[str, ...], warnings: list[str]) -> str:
    """``voice`` if it speaks the line's language, else that language's default character (warned)."""
    if line.main_lang in catalog.entry(voice).languages:
        return voice
    fallback = catalog.default_voice(line.main_lang, voices)
    warnings.append(f"{voice} does not speak {line.main_lang}; {fallback} sings {line.text[:40]!r}")
    return fallback
