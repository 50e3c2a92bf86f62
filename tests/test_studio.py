"""Lyrics studio: rhyme units, the song analysis (scheme, multisyllabic, internal rhymes, flow fit), the
suggestions, and their CLI and HTTP faces. The labelled-set figures are in benchmarks/rhyme.py."""

import json
import subprocess
import sys

import pytest

from airap.errors import AirapError
from airap.studio import analyze_song, suggest
from airap.studio.analysis import line_end
from airap.studio.rhyme import compare, zh_final
from airap.text import parse_lyrics


def _ends(text, lang="auto"):
    return [line_end(ln, "shisan").unit for ln in parse_lyrics(text, lang).lines]


@pytest.mark.parametrize("a,b,kind", [
    ("face", "place", "perfect"), ("time", "fight", "slant"), ("money", "honey", "perfect"), ("cat", "dog", None),
    ("motivator", "creator", "perfect"), ("clouds", "crowd", "perfect"), ("memory", "free", "slant"),
    ("光", "想", "perfect"), ("云", "问", "slant"), ("走", "dope", "slant"), ("我", "你", None),
])
def test_pairs(a, b, kind):
    ua, ub = _ends(f"{a}\n{b}")
    assert compare(ua, ub) == kind


def test_family_rhymes_join_two_perfect_pairs_but_not_other_slant():
    # pain/rain and name/game: one family (n / m, both nasals), heard as one rhyme
    assert analyze_song(parse_lyrics("drop of rain\nall the pain\nmake the name\nfor the game")).scheme == "AAAA"
    # out/about and down/town share only the vowel: an AABB verse keeps two letters
    assert analyze_song(parse_lyrics("I made it out\nwhat it's about\nback in my town\nnever back down")).scheme == "AABB"
    # "here" (IY R) and "clear" (IH R) are one vowel before r; "mic" is the microphone
    assert analyze_song(parse_lyrics("keep the vision clear\nstanding right here")).scheme == "AA"
    assert analyze_song(parse_lyrics("pass me the mic\nthis is my life")).scheme == "AA"
    plan = analyze_song(parse_lyrics("I had a plan A\nit is a brand new day"))
    assert plan.scheme == "AA" and plan.lines[0].rhyme == "-a" and plan.lines[0].end_rhyme == "perfect"
    # 闻/芬 (-en) and 云/君 (-ün): two perfect pairs, one 十三辙 class (人辰): one rhyme
    assert analyze_song(parse_lyrics("日下闻\n出松云\n圣事君\n揖清芬"), zh_classes="shisan").scheme == "AAAA"


def test_pinyin_finals():
    assert [zh_final(p) for p in ["xian1", "yu2", "shi4", "wei4", "you3", "wen2", "jun1", "er2"]] == \
        ["ian", "ü", "-i", "ui", "iu", "un", "ün", "er"]


def test_scheme_multi_internal_and_neutral_endings():
    a = analyze_song(parse_lyrics("[verse]\nI got the hot sauce\nyou got the lot, boss\nrain on the window\n"
                                  "[hook]\n天黑了\n我累了\n路远了"))
    assert a.scheme == "AAB CCD"  # 黑/累 rhyme through their neutral 了; 远 does not
    assert a.lines[3].rhyme == "-ei" and a.lines[3].tone == 1
    assert a.longest_multi.syllables >= 3 and (a.longest_multi.first, a.longest_multi.second) == (0, 1)
    got = a.lines[0].groups[0]
    assert got.words == ("got", "hot") and [a.lines[0].text[s:e] for s, e in got.spans] == ["got", "hot"]
    assert 0 < a.density < 1


def test_no_rhymes_is_a_valid_all_distinct_scheme():
    a = analyze_song(parse_lyrics("the cat sat\nunder a tree\nlooking for fish"))
    assert a.scheme == "ABC" and a.multis == () and a.longest_multi is None


def test_class_systems_differ_where_they_should():
    text = "山坡\n唱歌"  # o / e: one class in 十三辙 (梭波) and in 中华新韵 (二波)
    assert analyze_song(parse_lyrics(text), zh_classes="shisan").scheme == "AA"
    text = "北京\n天空"  # ing / ong: 中东 in 十三辙, 十一庚 in 中华新韵
    assert analyze_song(parse_lyrics(text), zh_classes="xinyun").scheme == "AA"
    with pytest.raises(AirapError):
        analyze_song(parse_lyrics(text), zh_classes="pingshui")


def test_flow_fit_names_the_flows_that_fit():
    line = " ".join(["rap"] * 40)
    a = analyze_song(parse_lyrics(line), flow="straight", bpm=90)
    assert not a.lines[0].fits and a.lines[0].bars == 3 and "double-time" in a.lines[0].fitting_flows


def test_suggestions_rank_and_explain():
    s = suggest("money", "en")
    assert [r.text for r in s.rhymes[:3]] == ["funny", "honey", "sunny"] and s.rhymes[0].kind == "perfect"
    kinds = [r.kind for r in s.rhymes]
    assert kinds == sorted(kinds, key=["perfect", "multi", "slant"].index)
    z = suggest("梦想", "zh")
    assert z.rhymes[0].kind == "multi" and "成长" in [r.text for r in z.rhymes]
    assert suggest("zorblax", "en").notes  # unknown word: pronounced by rule, and said so
    for bad in ("", "two words", "x" * 41):
        with pytest.raises(AirapError):
            suggest(bad, "en")


def test_cli_analyze_and_rhymes():
    run = [sys.executable, "-m", "airap.cli"]
    r = subprocess.run(run + ["analyze", "--text", "face\nplace", "--json"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and json.loads(r.stdout)["scheme"] == "AA"
    r = subprocess.run(run + ["rhymes", "走", "--json"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and json.loads(r.stdout)["rhymes"]
    r = subprocess.run(run + ["rhymes", ""], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_http_analyze_and_rhymes(tmp_path):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from airap.service.app import Settings, create_app

    class NoRender:
        capacity = 1

        def close(self):
            pass

    with TestClient(create_app(Settings(jobs_dir=tmp_path), runner=NoRender())) as c:
        a = c.post("/v1/analyze", json={"lyrics": "face\nplace\n光\n想", "zh_classes": "xinyun"}).json()
        assert a["scheme"] == "AABB" and a["lines"][0]["rhymes_with_others"] and a["syllables"] == 4
        assert c.post("/v1/analyze", json={"lyrics": "yo", "zh_classes": "x"}).status_code == 422
        r = c.get("/v1/rhymes", params={"word": "place"}).json()
        assert r["rhyme"] == "-ace" and r["rhymes"][0]["kind"] == "perfect"
        assert c.get("/v1/rhymes", params={"word": "not one"}).status_code == 400
