"""Our own acoustic model: a compact Tacotron-2 with location-sensitive attention and an inference
mask, trained here on a corpus the Kokoro teacher synthesises (corpus.py), predicting WORLD features
(airap.waveform). Files follow NVIDIA tacotron2's split: config, model, train, engine."""
