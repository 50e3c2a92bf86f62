"""Lyrics studio — rhyme analysis and rhyme suggestions on top of the text front-end. Entry points:
:func:`analyze_song` (Song -> SongAnalysis: scheme letters, multisyllabic and internal rhymes, density,
flow fit) and :func:`suggest` (a word -> rhymes, best first).

May import: the text front-end, the catalogue (flows, tempo limits) and the flow planner's LineRhymes
(what it hands the planner).
"""

from .analysis import LineAnalysis, MultiRhyme, RhymeGroup, SongAnalysis, analyze_song, rhyme_placement
from .suggest import Suggestion, Suggestions, suggest

__all__ = ["LineAnalysis", "MultiRhyme", "RhymeGroup", "SongAnalysis", "Suggestion", "Suggestions", "analyze_song",
           "rhyme_placement", "suggest"]
