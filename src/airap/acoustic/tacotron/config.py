"""Model and training configuration: data, not code."""

from __future__ import annotations

from dataclasses import dataclass

from ...waveform import FEATURE_DIM


@dataclass(frozen=True)
class EncoderConfig:
    """What both models share: symbols, speakers, the conv + BiLSTM encoder, the output features."""

    n_symbols: int = 178  # Kokoro's symbol ids (max 177) + padding 0
    n_speakers: int = 8
    symbol_dim: int = 192
    speaker_dim: int = 32
    encoder_convs: int = 3
    encoder_kernel: int = 5
    encoder_dim: int = 192  # BiLSTM output (2 x 96)
    dropout: float = 0.5  # encoder convolutions
    n_features: int = FEATURE_DIM
    reduction: int = 2  # feature frames per 25 ms teacher frame (Tacotron: per decoder step)
    postnet_dim: int = 192
    postnet_convs: int = 3


@dataclass(frozen=True)
class TacotronConfig(EncoderConfig):
    prenet_dim: int = 128
    attention_rnn_dim: int = 256
    decoder_rnn_dim: int = 256
    attention_dim: int = 96
    location_filters: int = 16
    location_kernel: int = 15
    # inference mask: attention may look [pointer - back, pointer + ahead]; the pointer never moves back.
    # Every token lasts >= 1 decoder step in the teacher data, so ahead = 1 loses nothing and makes a
    # skipped token impossible; ahead = 3 (the usual DV3/ESPnet window) is measured beside it.
    mask_back: int = 0
    mask_ahead: int = 1
    max_steps_per_token: float = 6.0
    # dwell bound (inference): attention may stay on a token at most scale x the duration head's
    # estimate + extra steps before the pointer is moved on; it catches a stalled attention
    max_dwell_scale: float = 1.3
    max_dwell_extra: int = 1


@dataclass(frozen=True)
class FastSpeechConfig(EncoderConfig):
    """The non-autoregressive acoustic model: same encoder, a convolutional frame decoder.
    Measured on our corpus it under-fits rather than over-fits (training and unseen losses within
    6 %), so dropout is light and the decoder deep."""

    dropout: float = 0.1
    decoder_dim: int = 256
    decoder_layers: int = 6
    decoder_kernel: int = 5
    decoder_dropout: float = 0.05
    postnet_dropout: float = 0.1


@dataclass(frozen=True)
class TrainConfig:
    batch_size: int = 24
    lr: float = 1e-3
    weight_decay: float = 1e-6
    grad_clip: float = 1.0
    attention_weight: float = 1.0  # supervision of attention by the teacher's own durations
    stop_pos_weight: float = 5.0
    max_frames: int = 480  # drop utterances longer than this (12.5 ms frames = 6 s)
    checkpoint_every: int = 100
    eval_every: int = 200
    threads: int = 1
    seed: int = 0


TINY = TacotronConfig(symbol_dim=32, speaker_dim=8, encoder_dim=32, prenet_dim=32, attention_rnn_dim=48,
                      decoder_rnn_dim=48, attention_dim=24, location_filters=4, location_kernel=7,
                      postnet_dim=32, postnet_convs=2)

FAST_TINY = FastSpeechConfig(symbol_dim=32, speaker_dim=8, encoder_dim=32, decoder_dim=32, decoder_layers=2,
                             postnet_dim=32, postnet_convs=2)


def config_for(kind: str, stored: dict | None = None, tiny: bool = False):
    """The config dataclass of a model kind, from a checkpoint's stored fields when given (fields the
    class does not know are ignored, so an old checkpoint still loads)."""
    from dataclasses import fields

    cls = FastSpeechConfig if kind == "fastspeech" else TacotronConfig
    if stored is None:
        return (FAST_TINY if kind == "fastspeech" else TINY) if tiny else cls()
    known = {f.name for f in fields(cls)}
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in stored.items() if k in known})
