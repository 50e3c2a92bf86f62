"""Our own acoustic models at run time: a compact Tacotron-2 with location-sensitive attention and an
inference mask, and FastSpeech-lite on the same encoder, predicting WORLD features (airap.waveform).
Files follow NVIDIA tacotron2's split: ``config``, ``model``, ``checkpoint`` (loading shipped
weights) and ``engine`` (the VocalEngine). Training lives in ``airap.training``."""
