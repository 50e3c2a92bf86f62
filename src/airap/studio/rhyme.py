"""What rhymes with what: a rhyme unit per word (English) or syllable (Mandarin), and their comparison.

English rhymes from the last stressed vowel to the end of the word, on the front-end's phonemes (CMUdict,
or the eSpeak fallback for unknown words): identical tails are perfect, the same stressed vowel with
another coda is slant (assonance). Mandarin rhymes on the final (韵母) without its medial, tone ignored
(押韵 usually ignores it; it is reported): the same rhyme body is perfect, another body of the same
class is slant. The classes are the traditional 十三辙 or 中华新韵 (14 rhymes). A neutral-tone ending
(的, 了, 吗, ...) rhymes on the syllable before it, as rap writers treat it. Across languages a coarse
vowel class and the nasal coda are compared (``dope`` / 走: slant).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..text.types import Syllable

# ---------------------------------------------------------------- English
# Kokoro-style IPA nucleus -> (coarse vowel class, readable spelling of the vowel)
EN_VOWELS = {"ɑ": "a", "æ": "a", "a": "a", "ɐ": "a", "ʌ": "e", "ə": "e", "ᵊ": "e", "ɛ": "e", "e": "e",
             "ɜɹ": "er", "əɹ": "er", "ɜ": "er", "ɪ": "i", "i": "i", "ᵻ": "i", "ɔ": "o", "ɒ": "o", "o": "o",
             "O": "ou", "u": "u", "ʊ": "u", "A": "ei", "I": "ai", "W": "ao", "Y": "oi"}
WEAK_VOWELS = {"ə", "ᵊ", "ɪ", "i", "ᵻ", "əɹ"}  # unstressed vowels that rhyme with each other in running speech
DIPHTHONGS = {"A", "I", "O", "W", "Y"}  # Kokoro's eɪ, aɪ, oʊ, aʊ, ɔɪ

# ---------------------------------------------------------------- Mandarin
ZH_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r", "z",
               "c", "s")
ZH_NEUTRAL = 5
# final -> rhyme body (the medial i/u/ü removed where the final has one)
ZH_BODY = {"a": "a", "ia": "a", "ua": "a", "o": "o", "uo": "o", "e": "e", "ie": "ê", "üe": "ê", "ai": "ai",
           "uai": "ai", "ei": "ei", "ui": "ei", "ao": "ao", "iao": "ao", "ou": "ou", "iu": "ou", "an": "an",
           "ian": "an", "uan": "an", "üan": "an", "en": "en", "un": "en", "in": "in", "ün": "ün", "ang": "ang",
           "iang": "ang", "uang": "ang", "eng": "eng", "ueng": "eng", "ing": "ing", "ong": "ong", "iong": "ong",
           "i": "i", "-i": "-i", "ü": "ü", "u": "u", "er": "er"}
ZH_CLASSES = {
    "shisan": {  # 十三辙
        "发花": "a ia ua", "梭波": "o uo e", "乜斜": "ie üe", "一七": "i ü -i er", "姑苏": "u", "怀来": "ai uai",
        "灰堆": "ei ui", "遥条": "ao iao", "由求": "ou iu", "言前": "an ian uan üan", "人辰": "en in un ün",
        "江阳": "ang iang uang", "中东": "eng ing ong iong ueng"},
    "xinyun": {  # 中华新韵 (十四韵)
        "一麻": "a ia ua", "二波": "o e uo", "三皆": "ie üe", "四开": "ai uai", "五微": "ei ui", "六豪": "ao iao",
        "七尤": "ou iu", "八寒": "an ian uan üan", "九文": "en in un ün", "十唐": "ang iang uang",
        "十一庚": "eng ing ong iong ueng", "十二齐": "i er ü", "十三支": "-i", "十四姑": "u"},
}
ZH_CLASS_OF = {system: {final: name for name, finals in table.items() for final in finals.split()}
               for system, table in ZH_CLASSES.items()}
# rhyme body -> (coarse vowel class, nasal coda): the bridge to English vowels
ZH_COARSE = {"a": ("a", ""), "o": ("o", ""), "e": ("e", ""), "ê": ("e", ""), "ai": ("ai", ""), "ei": ("ei", ""),
             "ao": ("ao", ""), "ou": ("ou", ""), "an": ("a", "n"), "en": ("e", "n"), "in": ("i", "n"),
             "ün": ("i", "n"), "ang": ("a", "ŋ"), "eng": ("e", "ŋ"), "ing": ("i", "ŋ"), "ong": ("o", "ŋ"),
             "i": ("i", ""), "-i": ("i", ""), "ü": ("i", ""), "u": ("u", ""), "er": ("er", "")}


def zh_final(pinyin: str) -> str:
    """'xian1' -> 'ian', 'yu2' -> 'ü', 'shi4' -> '-i', 'wei4' -> 'ui', 'er2' -> 'er'."""
    p = pinyin.rstrip("012345").replace("v", "ü").replace("u:", "ü").lower()
    if p.startswith("y"):
        p = {"yu": "ü", "yue": "üe", "yuan": "üan", "yun": "ün"}.get(p) or (p[1:] if p.startswith("yi") else "i" + p[1:])
    elif p.startswith("w"):
        p = "u" if p == "wu" else "u" + p[1:]
    else:
        initial = next((i for i in ZH_INITIALS if p.startswith(i) and len(p) > len(i)), "")
        p = p[len(initial):]
        if initial in ("j", "q", "x") and p.startswith("u"):
            p = "ü" + p[1:]
        if p == "i" and initial in ("zh", "ch", "sh", "r", "z", "c", "s"):
            p = "-i"
    return {"iou": "iu", "uei": "ui", "uen": "un"}.get(p, p)


# ---------------------------------------------------------------- units
@dataclass(frozen=True)
class RhymeUnit:
    """The rhyming end of a word (EN) or syllable (ZH)."""

    lang: str
    key: str  # perfect rhyme: equal keys (EN phonemes from the stressed vowel; ZH rhyme body)
    vowel: str  # coarse vowel class of the rhyming vowel (assonance, and the bridge between languages)
    nasal: str  # "", "n" or "ŋ": the coda as Mandarin hears it
    label: str  # what a person reads: "-ace", "-ang"
    tone: int = 0  # ZH: the tone of the rhyming syllable (押韵 ignores it; reported)
    zh_class: str = ""  # ZH: its class under the chosen system (十三辙 / 中华新韵)
    last: str = ""  # EN: the final syllable's rime (memory / free rhyme there, not on the stress)


def _nucleus(syl: Syllable) -> str:
    return syl.phonemes[syl.vowel_index].lstrip("ˈˌ") if syl.phonemes else ""


def en_vowel(syl: Syllable) -> str:
    n = _nucleus(syl)
    return EN_VOWELS.get(n) or EN_VOWELS.get(n[:1], n[:1])


def en_unit(word_text: str, syllables: tuple[Syllable, ...]) -> RhymeUnit | None:
    """From the word's last stressed syllable (else its last) to its end."""
    if not syllables:
        return None
    # the last stressed syllable, primary or secondary ('basketball' rhymes on -ball), or a diphthong
    # before the final syllable, which CMUdict often leaves unstressed ('motivator' EY0: on -vator)
    k = next((i for i in range(len(syllables) - 1, -1, -1)
              if syllables[i].stress in (1, 2) or (i < len(syllables) - 1 and _nucleus(syllables[i]) in DIPHTHONGS)),
             len(syllables) - 1)
    tail = [_merged(p.lstrip("ˈˌ")) for p in syllables[k].rime] + \
        [_weak(p.lstrip("ˈˌ")) for s in syllables[k + 1:] for p in s.phonemes]
    if tail[:2] == ["i", "ɹ"]:
        tail[0] = "ɪ"  # before r the two are one vowel (CMUdict: here HH IY1 R, clear K L IH1 R)
    if len(tail) > 2 and tail[-1] in ("s", "z") and tail[-2] not in EN_VOWELS:
        tail = tail[:-1]  # clouds / crowd: a plural or possessive -s does not break a rhyme
    coda = tail[1:2]
    nasal = {"n": "n", "m": "n", "ŋ": "ŋ"}.get(coda[0], "") if coda else ""
    last = syllables[-1]
    last_rime = " ".join(_merged(p.lstrip("ˈˌ")) for p in last.rime) if last.phonemes else ""
    return RhymeUnit("en", " ".join(tail), en_vowel(syllables[k]), nasal, _spelled_ending(word_text, syllables, k),
                     last=last_rime)


def _spelled_ending(word: str, syllables: tuple[Syllable, ...], k: int) -> str:
    """'place' -> '-ace', 'money' -> '-oney': the letters from the stressed syllable's first vowel letter."""
    before = sum(len(s.text) for s in syllables[:k]) if "".join(s.text for s in syllables) == word else 0
    rest = word[before:]
    for i, ch in enumerate(rest):
        if ch.lower() in "aeiouy":
            return "-" + rest[i:].lower()
    return "-" + word.lower()


def zh_unit(syl: Syllable, system: str = "shisan") -> RhymeUnit:
    final = zh_final(syl.pinyin or "")
    body = ZH_BODY.get(final, final)
    vowel, nasal = ZH_COARSE.get(body, (body[:1], ""))
    return RhymeUnit("zh", body, vowel, nasal, "-" + _spelled_final(syl.pinyin or ""), syl.tone,
                     ZH_CLASS_OF[system].get(final, final))


def _spelled_final(pinyin: str) -> str:
    """The final as the pinyin is written: 'wen4' -> 'en', 'yun2' -> 'un', 'xiang3' -> 'iang', 'shi4' -> 'i'."""
    p = pinyin.rstrip("012345").lower()
    if p[:1] in ("y", "w") and len(p) > 1:
        return p[1:]
    initial = next((i for i in ZH_INITIALS if p.startswith(i) and len(p) > len(i)), "")
    return p[len(initial):]


def compare(a: RhymeUnit, b: RhymeUnit) -> str | None:
    """'perfect', 'slant' or None."""
    if a.lang == b.lang == "en":
        if a.key == b.key:
            return "perfect"
        # assonance: the same stressed vowel (cot/caught merged), codas differ
        same_vowel = _merged(a.key.split()[0]) == _merged(b.key.split()[0])
        if same_vowel and _same_length(a.key, b.key):
            return "slant"
        # the same final syllable with a full vowel, stress elsewhere in one word: memory / free, avenue / do
        full_last = a.last and a.last.split()[0] not in ("ə", "ᵊ", "əɹ")
        return "slant" if full_last and a.last == b.last else None
    if a.lang == b.lang == "zh":
        if a.key == b.key:
            return "perfect"
        return "slant" if a.zh_class == b.zh_class else None
    return "slant" if a.vowel == b.vowel and a.nasal == b.nasal else None


# Pattison's consonant families: a consonant for one of its family keeps a rhyme close
FAMILIES = ({"m", "n", "ŋ"}, {"p", "t", "k", "b", "d", "ɡ"}, {"f", "θ", "s", "ʃ", "v", "ð", "z", "ʒ", "ʧ", "ʤ"})
FAMILY_OF = {p: k for k, fam in enumerate(FAMILIES) for p in fam}


def family(a: RhymeUnit, b: RhymeUnit) -> bool:
    """A family rhyme (Pattison): the same vowels, and where the tails differ a consonant of the same
    family (nasals; plosives; fricatives and affricates): 'pain' / 'name', 'passion' / 'cashing',
    'broken' / 'open'. Stronger than assonance: two perfect pairs of one family are heard as one rhyme.
    In Mandarin, the same class (辙).
    (Nasals alone were tried first: dev lost 'broken' / 'hoping', so the three families.)"""
    if a.key == b.key or a.lang != b.lang:
        return False
    if a.lang == "zh":  # a 十三辙 / 中华新韵 class is one rhyme by definition: 闻 / 云, 城 / 情
        return a.zh_class == b.zh_class
    x, y = a.key.split(), b.key.split()
    return len(x) == len(y) and all(p == q or FAMILY_OF.get(p, -1) == FAMILY_OF.get(q, -2) for p, q in zip(x, y))


def _merged(nucleus: str) -> str:
    return {"ɔ": "ɑ"}.get(nucleus, nucleus)


def _weak(phoneme: str) -> str:
    """Unstressed vowels after the rhyming one are heard alike: 'minute' / 'win it'."""
    return "ə" if phoneme in ("ɪ", "ᵻ", "ᵊ") else _merged(phoneme)


def _same_length(a: str, b: str) -> bool:
    """Assonance counts between tails of the same number of syllables ('time' / 'fight', 'money' /
    'funny'), not between a one-syllable and a three-syllable ending."""
    return _syllable_count(a) == _syllable_count(b)


def _syllable_count(key: str) -> int:
    return len(tail_vowels(key))


def tail_vowels(key: str) -> tuple[str, ...]:
    """The vowels of an English rhyme tail, in order (cot/caught merged)."""
    return tuple(_merged(p) for p in key.split() if (EN_VOWELS.get(p) or EN_VOWELS.get(p[:1])) is not None)
