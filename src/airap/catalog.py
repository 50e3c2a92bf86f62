"""The catalogue: every engine, voice, beat style, flow template, output format and limit airap offers,
one entry each. The renderer, the CLI, the HTTP request models, the page and the docs all read it;
the stages receive the entries the request resolved to (a ``BeatStyle``, a ``FlowTemplate``, a voice
name), never look a name up themselves.

Adding a voice is one ``VoiceEntry`` in ``VOICES``; a beat style one ``BeatStyle`` in ``STYLES``; a flow
one ``FlowTemplate`` in ``FLOWS``; an engine one ``EngineEntry`` in ``ENGINES`` (its class lives in
``airap/acoustic/`` and :func:`airap.acoustic.load_engine` imports it from the path given here).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from .beat.styles import BeatStyle
from .errors import InputError, NotFoundError
from .flow.templates import FlowTemplate

# -- limits ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    min_bpm: float = 60.0
    max_bpm: float = 180.0
    max_seed: int = 2**31 - 1
    max_lyrics_chars: int = 20_000  # a long song sheet is ~4,000; keeps one request's parse under 1 s
    max_lines: int = 200
    max_name_chars: int = 40  # voice / style / flow names in requests
    max_upload_mb: float = 40.0  # a 10-minute MP3 at 320 kb/s is 24 MB
    max_upload_seconds: float = 10 * 60
    min_upload_seconds: float = 4.0

    @property
    def upload_seconds(self) -> tuple[float, float]:
        return self.min_upload_seconds, self.max_upload_seconds


LIMITS = Limits()
LANGUAGES = ("auto", "en", "zh")
FORMATS = ("wav", "mp3")  # mix.<format>; stems, MIDI, timings and LRC are always written


def check_bpm(bpm: object) -> float:
    """A tempo within the limits, as a float, or one clear InputError."""
    lo, hi = LIMITS.min_bpm, LIMITS.max_bpm
    try:
        value = float(bpm)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"BPM must be a number between {lo:.0f} and {hi:.0f}, got {bpm!r}") from None
    if not (lo <= value <= hi) or value != value:
        raise InputError(f"BPM must be between {lo:.0f} and {hi:.0f}, got {bpm}")
    return value


def check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or not (0 <= seed <= LIMITS.max_seed):
        raise InputError(f"seed must be a whole number from 0 to {LIMITS.max_seed}")
    return seed


def _unknown(kind: str, name: object, known) -> InputError:
    close = difflib.get_close_matches(str(name), list(known), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return InputError(f"unknown {kind} {name!r}{hint} ({kind}s: {', '.join(known)})")


# -- engines -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EngineEntry:
    name: str
    description: str
    duration_control: str
    factory: str  # "module:Class" under airap.acoustic, imported only when the engine is loaded
    voices: tuple[str, ...] | None = None  # the voices it can sing; None: every voice in VOICES


# The speakers our own models were trained on (the corpus recipe's voices, in speaker-id order).
OWN_MODEL_SPEAKERS = ("kumo", "alpha", "fox", "mitten", "duo", "shadow", "spark", "mouse")

ENGINES: dict[str, EngineEntry] = {e.name: e for e in [
    EngineEntry("kokoro", "Kokoro-82M (Apache-2.0), our edited ONNX graph",
                "exact: the token->frame alignment matrix is an input", "kokoro:KokoroEngine"),
    EngineEntry("tacotron", "ours: compact Tacotron-2, location-sensitive attention + inference mask",
                "attention gives the boundaries; the plan warps WORLD frames per phoneme",
                "tacotron.engine:TacotronEngine", OWN_MODEL_SPEAKERS),
    EngineEntry("fast", "ours: FastSpeech-lite (non-autoregressive), duration + pitch inputs",
                "exact: planned frames per phoneme go straight in", "tacotron.engine:FastSpeechEngine",
                OWN_MODEL_SPEAKERS),
]}
DEFAULT_ENGINE = "kokoro"


def get_engine(name: str) -> EngineEntry:
    if name not in ENGINES:
        raise _unknown("engine", name, ENGINES)
    return ENGINES[name]


# -- voices ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VoiceEntry:
    """A character. ``packs`` weights Kokoro style vectors (one pack, a blend, or an extrapolation) for
    English lines; ``zh_packs`` for Mandarin lines when a different pack speaks it natively."""

    name: str
    description: str
    packs: dict[str, float] = field(default_factory=dict)
    zh_packs: dict[str, float] | None = None
    languages: tuple[str, ...] = ("en", "zh")
    tags: tuple[str, ...] = ()

    def packs_for(self, lang: str) -> dict[str, float]:
        return self.zh_packs if lang == "zh" and self.zh_packs is not None else self.packs


VOICES: dict[str, VoiceEntry] = {v.name: v for v in [
    VoiceEntry("kumo", "male, low (~90 Hz); the default MC", {"jm_kumo": 1.0}, tags=("male", "low")),
    VoiceEntry("alpha", "female, bright (~265 Hz)", {"jf_alpha": 1.0}, tags=("female", "high")),
    VoiceEntry("fox", "female, warm (~230 Hz)", {"jf_gongitsune": 1.0}, tags=("female", "mid")),
    VoiceEntry("mouse", "female, soft (~237 Hz), close to fox", {"jf_nezumi": 1.0}, tags=("female", "mid")),
    VoiceEntry("mitten", "female, high (~333 Hz)", {"jf_tebukuro": 1.0}, tags=("female", "high")),
    VoiceEntry("duo", "blend of kumo and alpha, mid (~174 Hz)", {"jm_kumo": 0.5, "jf_alpha": 0.5}, tags=("mid",)),
    VoiceEntry("shadow", "kumo pushed darker (style extrapolation)", {"jm_kumo": 1.5, "jf_nezumi": -0.5},
               tags=("male", "low")),
    VoiceEntry("spark", "alpha/mitten blend, high and crisp", {"jf_alpha": 0.6, "jf_tebukuro": 0.4},
               tags=("female", "high")),
]}
DEFAULT_VOICE = "kumo"


def engine_voices(engine: str) -> tuple[str, ...]:
    """The names of the voices ``engine`` can sing, in catalogue order."""
    known = get_engine(engine).voices
    return tuple(v.name for v in VOICES.values() if known is None or v.name in known)


def get_voice(name: str, available: tuple[str, ...] | None = None) -> VoiceEntry:
    """The voice called ``name``, if it is among ``available`` (an engine's voices; default: all)."""
    available = tuple(VOICES) if available is None else available
    if name not in available:
        if name in VOICES:
            raise InputError(f"voice {name!r} is not available with this engine (its voices: {', '.join(available)})")
        raise _unknown("voice", name, available)
    return VOICES[name]


# -- beat styles -------------------------------------------------------------------------------------

STYLES: dict[str, BeatStyle] = {s.name: s for s in [
    BeatStyle("boom-bap", "dusty 90s swing: punchy kick, cracking snare on 2 and 4, e-piano chords", 92, 0.58,
              "x......x..x.....", "....x.......x...", "x.x.x.x.x.x.x.x.", "..............x.", 38, 33, 4,
              (0, 5, 3, 4)),
    BeatStyle("trap", "half-time trap: 808 bass, clap on 3, rolling 16th hats, dark pad", 140, 0.5,
              "x.....x...x.....", "........x.......", "xxxxxxxxxxxxxxxx", "................", 39, 38, 89,
              (0, 0, 5, 6), hat_rolls=True, bass_glide=True),
    BeatStyle("lo-fi", "laid-back lo-fi: soft swung kit, warm electric piano, upright bass", 80, 0.62,
              "x.....x...x.....", "....x.......x...", "x.x.x.x.x.x.x.x.", "................", 37, 32, 4,
              (0, 3, 6, 2), chord_velocity=55, drum_velocity=80),
    BeatStyle("drill", "UK/NY drill: sliding 808, off-beat snares, triplet-feel hats, strings", 142, 0.5,
              "x.........x.....", "...x....x....x..", "x..x..x.x..x..x.", "................", 40, 38, 48,
              (0, 5, 6, 4), hat_rolls=True, bass_glide=True),
    BeatStyle("g-funk", "west-coast bounce: straight kit, funky bass, whiny synth lead chords", 96, 0.54,
              "x.x.......x.x...", "....x.......x...", "x.x.x.x.x.x.x.x.", "......x.........", 38, 38, 80,
              (0, 3, 0, 4)),
]}
DEFAULT_STYLE = "boom-bap"


def get_style(name: str) -> BeatStyle:
    if name not in STYLES:
        raise _unknown("beat style", name, STYLES)
    return STYLES[name]


# -- flow templates ----------------------------------------------------------------------------------

FLOWS: dict[str, FlowTemplate] = {t.name: t for t in [
    FlowTemplate("straight", "every syllable on a 16th note", 16),
    FlowTemplate("laid-back", "16ths, sitting a 32nd behind the beat", 16, offset_beats=0.0625),
    FlowTemplate("double-time", "32nd notes: twice the syllables per bar", 32, max_rate=40.0),
    FlowTemplate("triplet", "8th-note triplets (the 'Migos' flow)", 12),
    FlowTemplate("chopper", "16th-note triplets, very fast", 24, max_rate=40.0),
]}
DEFAULT_FLOW = "straight"


def get_flow(name: str | None) -> FlowTemplate:
    name = name or DEFAULT_FLOW
    if name not in FLOWS:
        raise _unknown("flow", name, FLOWS)
    return FLOWS[name]


def get_voice_or_404(name: str) -> VoiceEntry:
    """For routes addressed by voice name (previews): unknown -> not found, not bad input."""
    if name not in VOICES:
        raise NotFoundError(f"no voice {name!r}")
    return VOICES[name]
