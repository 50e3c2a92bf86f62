"""The judge's text side (no Whisper model runs here): lyrics and transcripts are normalised alike,
so only what was heard differently counts as an error."""

from airap.evaluate import _norm_en, _norm_zh, error_rate


def test_contractions_numbers_and_shouted_words_are_not_errors():
    lyric = "Now the city knows my name and I don't need the rest"
    for heard in ("Now the city knows my name, and I do not need the rest.",
                  "Now the city knows my name, and I don't NEED THE REST."):  # Whisper's capitals for emphasis
        assert error_rate(_norm_en(lyric), _norm_en(heard, transcript=True)) == 0.0
    assert error_rate(_norm_en("Count it up to 10"), _norm_en("count it up to ten", transcript=True)) == 0.0


def test_a_lone_acronym_is_still_spelled_and_a_wrong_word_still_counts():
    assert _norm_en("I saw it on the BBC", transcript=True)[-3:] == ["b", "b", "c"]
    assert error_rate(_norm_en("beat"), _norm_en("be it", transcript=True)) > 0


def test_mandarin_is_scored_on_simplified_han_characters():
    assert _norm_zh("這座城市，听见我") == list("这座城市听见我")
