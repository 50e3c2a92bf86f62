"""Stage 6 — beat. Entry points: :func:`generated_backing` / :func:`uploaded_backing` (the grid the song is
planned on), :func:`backing_sections` (the planned lines -> the song's sections), :func:`backing_beat`
(sections -> the arranged beat's stems and MIDI); underneath them :func:`arrange` (style + sections ->
bar-by-bar arrangement), :func:`generate_beat` (arrangement + grid -> audio and MIDI) and
:func:`track_beat` (an uploaded instrumental -> grid).

May import: nothing else from airap (the grid is the contract with the flow planner).
"""

from .arrange import (
    OUTRO_BARS,
    PHRASE_BARS,
    SECTION_KINDS,
    Arrangement,
    BarPlan,
    Section,
    arrange,
    label_lines,
    section_kind,
    section_starts,
    song_sections,
)
from .backing import Backing, backing_beat, backing_sections, generated_backing, preview_beat, uploaded_backing
from .generate import Beat, generate_beat, key_root
from .grid import BeatGrid
from .styles import BeatStyle, DrumBar
from .track import (
    AudioHeader,
    UploadCaps,
    detect_key_root,
    load_instrumental,
    probe_instrumental,
    spot_check_instrumental,
    track_beat,
    track_upload,
)

__all__ = ["Arrangement", "AudioHeader", "Backing", "BarPlan", "Beat", "BeatGrid", "BeatStyle", "DrumBar", "OUTRO_BARS",
           "PHRASE_BARS", "SECTION_KINDS", "Section", "UploadCaps", "arrange", "backing_beat", "backing_sections",
           "generate_beat", "generated_backing", "preview_beat", "label_lines", "load_instrumental", "probe_instrumental",
           "section_kind", "section_starts", "song_sections", "spot_check_instrumental", "track_beat", "detect_key_root", "track_upload",
           "key_root",
           "uploaded_backing"]
