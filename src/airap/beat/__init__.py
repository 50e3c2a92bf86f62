"""Stage 6 — beat. Entry points: :func:`generate_beat` (style + BPM -> audio, MIDI and exact grid)
and :func:`track_beat` (an uploaded instrumental -> grid).

May import: nothing else from airap (the grid is the contract with the flow planner).
"""

from .generate import Beat, check_bpm, generate_beat, get_style
from .grid import BeatGrid
from .styles import STYLES
from .track import load_instrumental, track_beat

__all__ = ["Beat", "BeatGrid", "STYLES", "check_bpm", "generate_beat", "get_style", "load_instrumental", "track_beat"]
