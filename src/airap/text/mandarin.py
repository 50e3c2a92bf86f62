"""Mandarin G2P: jieba words, pypinyin (phrase-aware polyphones, tones), misaki's pinyin -> IPA
(the symbol set Kokoro v1.0 was trained on). Every Han character is one syllable."""

from __future__ import annotations

import functools
import re

from .types import TONE_MARKS, Syllable, Word

TONE_ARROWS = {"˧˩˧": "↓", "˧˥": "↗", "˥˩": "↘", "˥": "→"}
# Polyphones pypinyin's phrase table reads wrongly (measured): extend as users report them.
PHRASE_FIXES = {"很长": [["hěn"], ["cháng"]], "扁担长": [["biǎn"], ["dan"], ["cháng"]],
                "板凳长": [["bǎn"], ["dèng"], ["cháng"]], "多长": [["duō"], ["cháng"]],
                "太长": [["tài"], ["cháng"]]}


@functools.lru_cache(maxsize=1)
def _setup() -> None:
    import jieba
    import pypinyin

    jieba.setLogLevel(60)
    pypinyin.load_phrases_dict(PHRASE_FIXES)
    for phrase in PHRASE_FIXES:
        jieba.suggest_freq(phrase, tune=True)


def _retone(p: str) -> str:
    for k, v in TONE_ARROWS.items():
        p = p.replace(k, v)
    return p.replace("ɻ̩", "ɨ").replace("ɹ̩", "ɨ").replace("\u0329", "").replace("\u032f", "")


@functools.lru_cache(maxsize=4096)
def pinyin_phonemes(py: str) -> tuple[tuple[str, ...], int, int]:
    """'xian1' -> (('ɕ', 'j', 'ɛ→', 'n'), vowel_index=1, tone=1)."""
    from misaki.transcription import pinyin_to_ipa

    tone = int(py[-1]) if py[-1].isdigit() else 5
    try:
        phones = pinyin_to_ipa(py)[0]
    except ValueError:  # erhua "r5" and other non-syllables: read as a neutral-tone 'er'
        phones = pinyin_to_ipa("er5")[0]
    phones = tuple(_retone(p) for p in phones if _retone(p))
    initials = {"p", "pʰ", "t", "tʰ", "k", "kʰ", "m", "n", "f", "l", "h", "x", "ɕ", "ʂ", "ʐ", "ɻ", "s", "ʦ",
                "ʦʰ", "ʨ", "ʨʰ", "ꭧ", "ꭧʰ", "ʈʂ", "ʈʂʰ", "tɕ", "tɕʰ", "ts", "tsʰ", "z"}
    vowel_index = 1 if len(phones) > 1 and phones[0] in initials else 0
    return phones, vowel_index, tone


def words(text: str) -> list[Word]:
    """Han text -> words of syllables (non-Han characters are ignored here)."""
    import jieba
    from pypinyin import Style, lazy_pinyin

    _setup()
    out = []
    han = "".join(re.findall(r"[\u3400-\u9fff\uf900-\ufaff]", text))
    for w in jieba.lcut(han, cut_all=False):
        pys = lazy_pinyin(w, style=Style.TONE3, neutral_tone_with_five=True)
        sylls = []
        for ch, py in zip(w, pys):
            phones, vi, tone = pinyin_phonemes(py)
            rhyme = re.sub(f"[{TONE_MARKS}]", "", "".join(phones[vi:]))
            sylls.append(Syllable(text=ch, phonemes=phones, vowel_index=vi, lang="zh", tone=tone, rhyme=rhyme,
                                  pinyin=py))
        out.append(Word(text=w, lang="zh", syllables=tuple(sylls)))
    return out
