"""Lyrics studio — rhyme analysis and rhyme suggestions on top of the text front-end. Entry points:
:func:`analyze_song` (Song -> SongAnalysis: scheme letters, multisyllabic and internal rhymes, density,
flow fit) and :func:`suggest` (a word -> rhymes, best first).

May import: the text front-end and the catalogue (flows, tempo limits).
"""

from .analysis import LineAnalysis, MultiRhyme, RhymeGroup, SongAnalysis, analyze_song
from .suggest import Suggestion, Suggestions, suggest

__all__ = ["LineAnalysis", "MultiRhyme", "RhymeGroup", "SongAnalysis", "Suggestion", "Suggestions", "analyze_song",
           "suggest"]
