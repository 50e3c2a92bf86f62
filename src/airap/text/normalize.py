"""Text normalisation: numbers, dates, times, money, percentages and acronyms -> speakable words.

English uses num2words; Mandarin uses cn2an after our own rewrites for the cases it gets wrong
(thousands separators, clock times, currency symbols). Characters nobody can voice are dropped and
reported, never silently.
"""

from __future__ import annotations

import re
import unicodedata

from num2words import num2words as _num2words

HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
HAN_RE = re.compile(f"[{HAN}]")
# Acronyms that are said as words, not spelled (all other 2-5 letter all-caps tokens are spelled).
WORD_ACRONYMS = {"NASA", "NATO", "UNESCO", "OK", "AIDS", "LOL", "YOLO", "SCUBA", "RADAR", "LASER", "FIFA",
                 "GIF", "JPEG", "UNICEF", "COVID", "ASAP", "SWAT", "RAM", "CEO"} - {"CEO"}
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
CURRENCY_EN = {"$": ("dollar", "dollars", "cent", "cents"), "€": ("euro", "euros", "cent", "cents"),
               "£": ("pound", "pounds", "penny", "pence"), "¥": ("yen", "yen", "", "")}
CURRENCY_ZH = {"$": "美元", "€": "欧元", "£": "英镑", "¥": "元", "￥": "元"}
# Punctuation we keep as phrase marks; everything else that is not a letter/digit is dropped.
KEEP_PUNCT = set(",.!?;:'-’")
ZH_PUNCT = {"，": ",", "。": ".", "！": "!", "？": "?", "；": ";", "：": ":", "、": ",", "…": ".",
            "“": "", "”": "", "「": "", "」": "", "《": "", "》": "", "（": "", "）": ""}


MAX_NUMBER_WORDS = 10**15  # beyond a quadrillion num2words overflows and nobody raps the name: read digits


def num2words(n, **kw) -> str:
    if abs(n) >= MAX_NUMBER_WORDS:
        return " ".join(_num2words(int(d)) for d in str(abs(n)))
    # num2words writes "one thousand, two hundred": the comma would become a sung pause.
    return _num2words(n, **kw).replace(",", "")


def has_han(text: str) -> bool:
    return bool(HAN_RE.search(text))


def _year_words(y: int) -> str:
    return num2words(y, to="year")


def _number_en(s: str) -> str:
    s = s.replace(",", "")
    if "." in s:
        whole, frac = s.split(".", 1)
        return f"{num2words(int(whole or 0))} point {' '.join(num2words(int(d)) for d in frac)}"
    n = int(s)
    if 1100 <= n <= 2099 and len(s) == 4:
        return _year_words(n)
    return num2words(n)


def _money_en(sym: str, amount: str) -> str:
    one, many, sub1, subn = CURRENCY_EN[sym]
    amount = amount.replace(",", "")
    whole, _, frac = amount.partition(".")
    w = int(whole or 0)
    out = f"{num2words(w)} {one if w == 1 else many}"
    if frac and sub1:
        c = int((frac + "0")[:2])
        if c:
            out += f" and {num2words(c)} {sub1 if c == 1 else subn}"
    return out


def _time_en(h: str, m: str, ampm: str | None) -> str:
    hh, mm = int(h), int(m)
    words = num2words(hh)
    if mm == 0:
        words += "" if ampm else " o'clock"
    elif mm < 10:
        words += f" oh {num2words(mm)}"
    else:
        words += f" {num2words(mm)}"
    if ampm:
        words += " " + " ".join(ampm.replace(".", "").upper())
    return words


def _date_en(mo: str, d: str, y: str) -> str:
    mi, di = int(mo), int(d)
    if not (1 <= mi <= 12 and 1 <= di <= 31):
        return f"{_number_en(mo)} {_number_en(d)} {_number_en(y)}"
    return f"{MONTHS[mi - 1]} {num2words(di, to='ordinal')}, {_year_words(int(y))}"


def spell(letters: str) -> str:
    return " ".join(letters)


def normalize_en(text: str) -> str:
    t = text
    t = re.sub(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b", lambda m: _date_en(*m.groups()), t)
    t = re.sub(r"\b(\d{1,2}):(\d{2})\s*([AaPp]\.?[Mm]\.?)?",
               lambda m: _time_en(m.group(1), m.group(2), m.group(3)), t)
    t = re.sub(r"([$€£¥])\s?(\d[\d,]*(?:\.\d+)?)", lambda m: _money_en(m.group(1), m.group(2)), t)
    t = re.sub(r"(\d[\d,]*(?:\.\d+)?)\s?%", lambda m: f"{_number_en(m.group(1))} percent", t)
    t = re.sub(r"\b(\d+)(st|nd|rd|th)\b", lambda m: num2words(int(m.group(1)), to="ordinal"), t)
    t = re.sub(r"\d[\d,]*(?:\.\d+)?", lambda m: " " + _number_en(m.group(0)) + " ", t)
    t = t.replace("&", " and ").replace("+", " plus ").replace("@", " at ").replace("#", " number ")

    def acronym(m: re.Match) -> str:
        w = m.group(0)
        return w if w in WORD_ACRONYMS else spell(w)

    t = re.sub(r"\b[A-Z]{2,5}\b", acronym, t)
    return re.sub(r"\s+", " ", t).strip()


def normalize_zh(text: str) -> str:
    import cn2an

    t = text
    t = re.sub(r"(\d),(?=\d{3})", r"\1", t)
    t = re.sub(r"(\d{1,2}):(\d{2})", lambda m: f"{int(m.group(1))}点{int(m.group(2))}分" if int(m.group(2))
               else f"{int(m.group(1))}点", t)
    for sym, word in CURRENCY_ZH.items():
        t = re.sub(re.escape(sym) + r"\s?(\d+(?:\.\d+)?)", lambda m, w=word: m.group(1) + w, t)
    t = re.sub(r"(\d+(?:\.\d+)?)\s?％", r"\1%", t)
    t = t.replace("&", "和").replace("+", "加")
    # Digits glued to Latin letters (e.g. "MP3") are spelled in English later; only convert number runs.
    try:
        t = cn2an.transform(t, "an2cn")
    except Exception:  # cn2an raises on odd inputs; fall back to digit-by-digit reading
        pass
    digits = "零一二三四五六七八九"
    return re.sub(r"\d", lambda m: digits[int(m.group(0))], t)


def clean_characters(text: str) -> tuple[str, list[str]]:
    """Fold width/accents, map CJK punctuation, drop what cannot be voiced. Returns (text, dropped)."""
    out, dropped = [], []
    for ch in unicodedata.normalize("NFKC", text):
        ch = ZH_PUNCT.get(ch, ch)
        if not ch:
            continue
        if ch.isspace():
            out.append(" ")
        elif HAN_RE.match(ch) or ch.isdigit() or ch in KEEP_PUNCT or ch in "$€£¥%&+@#/":
            out.append(ch)
        elif ch.isalpha():
            base = unicodedata.normalize("NFKD", ch)[0]
            if base.isascii() and base.isalpha():
                out.append(base)
            else:
                dropped.append(ch)
        else:
            dropped.append(ch)
    return "".join(out).replace("’", "'"), dropped


def normalize(text: str) -> tuple[str, list[str]]:
    """Normalise one lyric line (EN, ZH or mixed). Returns (speakable text, dropped characters)."""
    text, dropped = clean_characters(text)
    if has_han(text):
        # Mixed lines: numbers next to Han read in Mandarin, the Latin words stay English.
        text = normalize_zh(text)
        parts = re.split(f"([{HAN}]+)", text)
        text = "".join(p if has_han(p) else normalize_en(p).join(" " * 2) for p in parts)
    else:
        text = normalize_en(text)
    text = text.replace("/", " ")
    return re.sub(r"\s+", " ", text).strip(), dropped
