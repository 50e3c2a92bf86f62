"""Stage 6 — beat. Entry points: :func:`generated_backing` / :func:`uploaded_backing` (the grid the song is
planned on), :func:`backing_beat` (that grid -> the beat's audio and MIDI); underneath them
:func:`generate_beat` (style + grid -> audio and MIDI)
and :func:`track_beat` (an uploaded instrumental -> grid).

May import: nothing else from airap (the grid is the contract with the flow planner).
"""

from .backing import INTRO_BARS, OUTRO_BARS, Backing, backing_beat, generated_backing, uploaded_backing
from .generate import Beat, generate_beat
from .grid import BeatGrid
from .styles import BeatStyle
from .track import AudioHeader, UploadCaps, load_instrumental, probe_instrumental, spot_check_instrumental, track_beat

__all__ = ["AudioHeader", "Backing", "Beat", "BeatGrid", "BeatStyle", "INTRO_BARS", "OUTRO_BARS", "UploadCaps",
           "backing_beat", "generate_beat", "generated_backing", "load_instrumental", "probe_instrumental",
           "spot_check_instrumental", "track_beat", "uploaded_backing"]
