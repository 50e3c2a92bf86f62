"""Training our acoustic models, apart from the runtime: the teacher corpus (``corpus``), one training
loop (``train``), shipping fp16 weights with a manifest (``export``) and the alignment evaluation
(``evaluate``). Needs PyTorch (``bash scripts/setup.sh --train``); nothing in the render path imports
this package.

May import: airap.acoustic (the model definitions and the teacher via load_engine), airap.text,
airap.waveform, airap.corpus (the shard format).
"""
