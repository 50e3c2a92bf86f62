"""Independent checks of finished audio — outside the pipeline. Entry point: :class:`ForcedAligner`
(where each phoneme, and so each vowel, actually starts in a rendered vocal, found from the audio and
the phoneme sequence alone, never from the plan or timings.json).

May import: any stage (it trains on the teacher corpus and checks renders); no pipeline stage imports it.
"""

from .aligner import AlignerConfig, ForcedAligner, forced_align, log_mel

__all__ = ["AlignerConfig", "ForcedAligner", "forced_align", "log_mel"]
