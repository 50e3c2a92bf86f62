"""What the text front-end hands to every later stage."""

from __future__ import annotations

from dataclasses import dataclass, field

TONE_MARKS = "→↗↓↘"


@dataclass(frozen=True)
class Syllable:
    """One sung syllable.

    ``phonemes`` are Kokoro-style IPA symbols (the same inventory our own model uses); stress marks
    (EN) and tone arrows (ZH) are written inside the nucleus phoneme so engines can simply join them.
    ``vowel_index`` points at the phoneme whose start is the syllable's beat anchor.
    """

    text: str
    phonemes: tuple[str, ...]
    vowel_index: int
    lang: str  # "en" | "zh"
    stress: int = 0  # EN: 0 none, 1 primary, 2 secondary
    tone: int = 0  # ZH: 1..5 (5 = neutral)
    rhyme: str = ""  # nucleus + coda without stress/tone, for rhyme detection
    pinyin: str = ""  # ZH: the syllable's pinyin with its tone number (xian1), as read in context

    @property
    def onset(self) -> tuple[str, ...]:
        return self.phonemes[: self.vowel_index]

    @property
    def rime(self) -> tuple[str, ...]:
        return self.phonemes[self.vowel_index :]

    @property
    def nucleus_index(self) -> int:
        """The phoneme that is held when the syllable is stretched: the vowel, or after a Mandarin
        medial glide (想 ɕ-j-a↓-ŋ: the anchor is j) the toned vowel after it. Holding the glide
        instead sings "shiiiiang"."""
        for k in range(self.vowel_index, len(self.phonemes)):
            if any(mark in self.phonemes[k] for mark in TONE_MARKS):
                return k
        return self.vowel_index

    @property
    def stress_timed(self) -> bool:
        """Its language places stresses on beats (English); Mandarin has tones, not lexical stress."""
        return self.lang != "zh"

    @property
    def strong(self) -> bool:
        """Wants a strong beat: a stressed English syllable (no Mandarin syllable does by itself)."""
        return self.stress_timed and self.stress == 1


def main_lang(syllables) -> str:
    """The language most of these syllables are in ("zh" on a tie)."""
    return "zh" if 2 * sum(s.lang == "zh" for s in syllables) >= len(syllables) else "en"


@dataclass(frozen=True)
class Word:
    text: str
    lang: str
    syllables: tuple[Syllable, ...]


@dataclass(frozen=True)
class Line:
    text: str
    words: tuple[Word, ...]
    section: str = "verse"
    flow: str | None = None  # template name; None = the song's default
    voice: str | None = None  # voice override for this line
    crew: tuple[str, ...] = ()  # more voices singing it in unison with the lead (a crew hook)
    adlibs: str | None = None  # off | light | heavy; None: the section kind's default
    double: bool | None = None  # a doubled take under the lead; None: the section kind's default
    sing: bool = False  # sung on notes instead of rapped
    notes: tuple[int, ...] | None = None  # MIDI note per syllable; None with ``sing``: composed
    harmony: str | None = None  # third | sixth: a second part above the sung line, in key

    @property
    def syllables(self) -> list[Syllable]:
        return [s for w in self.words for s in w.syllables]

    @property
    def main_lang(self) -> str:
        """The language most of its syllables are in: a mixed line is sung by one voice in one
        language's settings."""
        return main_lang(self.syllables)


@dataclass
class Song:
    lines: list[Line]
    title: str = "untitled"
    bpm: float | None = None
    beat: str | None = None
    voice: str | None = None
    flow: str | None = None
    tagged: bool = False  # the lyrics name their sections (else the beat picks a default form)
    warnings: list[str] = field(default_factory=list)
