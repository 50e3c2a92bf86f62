from airap.errors import InputError
from airap.text import analyze_line, parse_lyrics
from airap.text.english import syllabify, word_syllables
from airap.text.normalize import normalize


def test_english_numbers_money_dates_times():
    text, _ = normalize("On 12/25/2023 at 11:59 PM it was $1,250.75, 15% more")
    assert "December twenty-fifth" in text and "twenty twenty-three" in text
    assert "eleven fifty-nine P M" in text
    assert "one thousand two hundred and fifty dollars and seventy-five cents" in text
    assert "fifteen percent" in text
    assert not any(c.isdigit() for c in text)


def test_acronyms_spelled_unless_said_as_words():
    text, _ = normalize("NASA, the UN and the BBC said OK")
    assert "NASA" in text and "U N" in text and "B B C" in text and "OK" in text


def test_mandarin_numbers():
    text, _ = normalize("2023年12月25日晚上11:59一共1,250元，涨了15%")
    assert "二零二三年十二月二十五日" in text
    assert "十一点五十九分" in text
    assert "一千二百五十元" in text and "百分之十五" in text


def test_emoji_dropped_with_warning():
    line, warnings = analyze_line("yo 🔥 fire")
    assert [w.text for w in line.words] == ["yo", "fire"]
    assert warnings and "🔥" in warnings[0]


def test_cmudict_stress_and_vowel_position():
    sylls = word_syllables("microphone")
    assert len(sylls) == 3
    assert [s.stress for s in sylls] == [1, 0, 2]
    assert sylls[0].phonemes[sylls[0].vowel_index] == "ˈI"
    assert sylls[2].onset == ("f",)


def test_maximal_onset():
    out = syllabify(["ɛ", "k", "s", "t", "ɹ", "ə"])
    assert out[1][0] == ["s", "t", "ɹ", "ə"]


def test_oov_words_get_phonemes():
    for word in ("skrrt", "spittin", "floccinaucinihilipilification"):
        sylls = word_syllables(word)
        assert sylls and all(s.phonemes for s in sylls)


def test_mandarin_tones_and_polyphones():
    line, _ = analyze_line("重庆很长")
    sylls = line.syllables
    assert [s.tone for s in sylls] == [2, 4, 3, 2]
    assert sylls[0].text == "重" and sylls[3].phonemes[0].startswith("ꭧʰ")  # cháng, not zhǎng


def test_mixed_line_keeps_order():
    line, _ = analyze_line("这个 beat 真的很 dope")
    assert [w.lang for w in line.words] == ["zh", "en", "zh", "zh", "en"]


def test_sections_and_sheet():
    song = parse_lyrics("[verse]\nline one here\n[hook]\nrun it back\n")
    assert [ln.section for ln in song.lines] == ["verse", "hook"]
    sheet = "title: t\nbpm: 90\nbeat: trap\nsections:\n  - name: hook\n    flow: triplet\n    voice: fox\n    lines: [run it back]\n"
    song = parse_lyrics(sheet)
    assert song.bpm == 90 and song.beat == "trap" and song.lines[0].flow == "triplet" and song.lines[0].voice == "fox"


def test_bad_lyrics_raise_clear_errors():
    import pytest

    for bad in ("", "   \n  ", "🔥🔥🔥", "\n".join(["yo"] * 20000)):
        with pytest.raises(InputError):
            parse_lyrics(bad)


def test_letter_a_and_lyric_words():
    plan = parse_lyrics("I had a plan A, plan B", "en").lines[0]
    assert [s.phonemes for s in plan.syllables][2:4] == [("ə",), ("p", "l", "ˈæ", "n")]  # "a plan": the article
    assert ("ˈA",) in [s.phonemes for s in plan.syllables]  # "A," the letter
    assert parse_lyrics("A man", "en").lines[0].syllables[0].phonemes == ("ə",)
    assert parse_lyrics("the mic", "en").lines[0].syllables[-1].phonemes == ("m", "ˈI", "k")
