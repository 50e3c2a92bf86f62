"""airap — lyrics + character voice + beat -> a finished, beat-locked rap track on a CPU.

Stages (one folder each, data flows one way): text -> acoustic -> align -> flow -> waveform -> beat -> mix.
The one-click entry point is :class:`airap.render.Renderer`.
"""

__version__ = "0.1.0"
