"""Tacotron-2 (module split as in NVIDIA/tacotron2), compact for CPUs, multi-speaker, with
location-sensitive attention and an inference mask.

Training supervises the attention directly with the teacher's durations (one decoder step = one
25 ms teacher frame, so the target token of every step is known): attention is aligned from the
first steps instead of after ~10 minutes of guided-attention warm-up.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .config import EncoderConfig, FastSpeechConfig, TacotronConfig


@dataclass(frozen=True)
class Decoded:
    """One line of a free-running decode."""

    frames: torch.Tensor  # [steps, r * n_features], before the postnet
    attention: torch.Tensor  # [steps, tokens]
    stopped: bool  # ended by the stop gate / the final dwell, not by the step limit


class LocationLayer(nn.Module):
    """Previous and cumulative attention -> location features. The 2-channel conv is done as
    unfold + matmul: on one CPU thread it is ~25% cheaper than nn.Conv1d (measured in the spike)."""

    def __init__(self, filters: int, kernel: int, attention_dim: int):
        super().__init__()
        self.kernel = kernel
        self.conv = nn.Parameter(torch.randn(filters, 2 * kernel) * (2 * kernel) ** -0.5)
        self.dense = nn.Linear(filters, attention_dim, bias=False)

    def forward(self, weights_cat: torch.Tensor) -> torch.Tensor:  # [B, 2, T]
        pad = self.kernel // 2
        x = F.pad(weights_cat, (pad, pad)).unfold(2, self.kernel, 1)  # [B, 2, T, k]
        x = x.permute(0, 2, 1, 3).reshape(x.shape[0], x.shape[2], -1)  # [B, T, 2k]
        return self.dense(x @ self.conv.t())


class Attention(nn.Module):
    def __init__(self, cfg: TacotronConfig):
        super().__init__()
        self.query = nn.Linear(cfg.attention_rnn_dim, cfg.attention_dim, bias=False)
        self.memory = nn.Linear(cfg.encoder_dim, cfg.attention_dim, bias=False)
        self.v = nn.Linear(cfg.attention_dim, 1, bias=False)
        self.location = LocationLayer(cfg.location_filters, cfg.location_kernel, cfg.attention_dim)

    def forward(self, query, memory, processed_memory, weights_cat, mask):
        energy = self.v(torch.tanh(self.query(query).unsqueeze(1) + self.location(weights_cat) + processed_memory))
        energy = energy.squeeze(2).masked_fill(mask, -1e4)
        weights = F.softmax(energy, dim=1)
        return torch.bmm(weights.unsqueeze(1), memory).squeeze(1), weights


class Encoder(nn.Module):
    def __init__(self, cfg: TacotronConfig):
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Sequential(nn.Conv1d(cfg.symbol_dim, cfg.symbol_dim, cfg.encoder_kernel, padding=cfg.encoder_kernel // 2),
                          nn.BatchNorm1d(cfg.symbol_dim), nn.ReLU(), nn.Dropout(cfg.dropout))
            for _ in range(cfg.encoder_convs))
        self.lstm = nn.LSTM(cfg.symbol_dim, cfg.encoder_dim // 2, batch_first=True, bidirectional=True)

    def forward(self, x, lengths):  # x [B, T, C]
        x = x.transpose(1, 2)
        for conv in self.convs:
            x = conv(x)
        x = nn.utils.rnn.pack_padded_sequence(x.transpose(1, 2), lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(x)
        return nn.utils.rnn.pad_packed_sequence(out, batch_first=True)[0]


class DurationPredictor(nn.Module):
    """Per-token log(1 + decoder steps), FastSpeech-style (2 convs + linear on the encoder output).
    In Tacotron it bounds how long attention may dwell on a token at inference; in the
    non-autoregressive model it sets the durations (when the flow plan does not)."""

    def __init__(self, dim: int, hidden: int = 128):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv1d(dim, hidden, 3, padding=1), nn.Conv1d(hidden, hidden, 3, padding=1)])
        self.norms = nn.ModuleList([nn.LayerNorm(hidden), nn.LayerNorm(hidden)])
        self.out = nn.Linear(hidden, 1)

    def forward(self, memory):  # [B, T, C] -> [B, T]
        x = memory.transpose(1, 2)
        for conv, norm in zip(self.convs, self.norms):
            x = F.dropout(norm(F.relu(conv(x)).transpose(1, 2)).transpose(1, 2), 0.1, self.training)
        return self.out(x.transpose(1, 2)).squeeze(2)


class Prenet(nn.Module):
    def __init__(self, dim_in: int, dim: int):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(dim_in, dim), nn.Linear(dim, dim)])

    def forward(self, x):
        for layer in self.layers:
            x = F.dropout(F.relu(layer(x)), 0.5, training=True)  # dropout at inference too (Tacotron 2)
        return x


class Postnet(nn.Module):
    def __init__(self, cfg: TacotronConfig):
        super().__init__()
        dims = [cfg.n_features] + [cfg.postnet_dim] * (cfg.postnet_convs - 1) + [cfg.n_features]
        self.convs = nn.ModuleList(nn.Sequential(nn.Conv1d(a, b, 5, padding=2), nn.BatchNorm1d(b)) for a, b in zip(dims, dims[1:]))
        self.dropout = getattr(cfg, "postnet_dropout", 0.5)

    def forward(self, x):  # [B, frames, n_features]
        x = x.transpose(1, 2)
        for i, conv in enumerate(self.convs):
            x = conv(x)
            if i < len(self.convs) - 1:
                x = F.dropout(torch.tanh(x), self.dropout, self.training)
        return x.transpose(1, 2)


class Decoder(nn.Module):
    def __init__(self, cfg: TacotronConfig):
        super().__init__()
        self.cfg = cfg
        frame_dim = cfg.n_features * cfg.reduction
        self.prenet = Prenet(frame_dim, cfg.prenet_dim)
        self.attention_rnn = nn.LSTMCell(cfg.prenet_dim + cfg.encoder_dim, cfg.attention_rnn_dim)
        self.attention = Attention(cfg)
        self.decoder_rnn = nn.LSTMCell(cfg.attention_rnn_dim + cfg.encoder_dim, cfg.decoder_rnn_dim)
        self.project = nn.Linear(cfg.decoder_rnn_dim + cfg.encoder_dim, frame_dim)
        self.gate = nn.Linear(cfg.decoder_rnn_dim + cfg.encoder_dim, 1)

    def _init(self, memory):
        b, t, _ = memory.shape
        z = memory.new_zeros
        return dict(ah=z(b, self.cfg.attention_rnn_dim), ac=z(b, self.cfg.attention_rnn_dim),
                    dh=z(b, self.cfg.decoder_rnn_dim), dc=z(b, self.cfg.decoder_rnn_dim),
                    w=z(b, t), wcum=z(b, t), ctx=z(b, self.cfg.encoder_dim))

    def step(self, s, prev_frame, memory, processed, pad_mask):
        x = torch.cat([self.prenet(prev_frame), s["ctx"]], 1)
        s["ah"], s["ac"] = self.attention_rnn(x, (s["ah"], s["ac"]))
        s["ah"] = F.dropout(s["ah"], 0.1, self.training)
        cat = torch.stack([s["w"], s["wcum"]], 1)
        s["ctx"], s["w"] = self.attention(s["ah"], memory, processed, cat, pad_mask)
        s["wcum"] = s["wcum"] + s["w"]
        s["dh"], s["dc"] = self.decoder_rnn(torch.cat([s["ah"], s["ctx"]], 1), (s["dh"], s["dc"]))
        s["dh"] = F.dropout(s["dh"], 0.1, self.training)
        out = torch.cat([s["dh"], s["ctx"]], 1)
        return self.project(out), self.gate(out).squeeze(1)

    def forward(self, memory, pad_mask, targets):
        """Teacher forcing. targets [B, steps, r*n_features] -> frames, gates, attention [B, steps, T]."""
        s = self._init(memory)
        processed = self.attention.memory(memory)
        prev = memory.new_zeros(memory.shape[0], targets.shape[2])
        frames, gates, attn = [], [], []
        for i in range(targets.shape[1]):
            f, g = self.step(s, prev, memory, processed, pad_mask)
            frames.append(f)
            gates.append(g)
            attn.append(s["w"])
            prev = targets[:, i]
        return torch.stack(frames, 1), torch.stack(gates, 1), torch.stack(attn, 1)

    @torch.no_grad()
    def infer(self, memory, lengths, use_mask: bool = True, max_dwell=None,
              max_steps: int | None = None) -> list[Decoded]:
        """Free-running decoding of a batch (one line is a batch of one). The mask keeps attention in
        [p - back, p + ahead] around a pointer p that follows the argmax and never moves back, so no
        token is revisited; with ahead = 1 no token can be skipped either. ``max_dwell[b, k]`` (steps,
        from the duration head) moves the pointer on when attention stalls on token k, so it cannot get
        stuck. Stop is accepted only once the pointer has reached the last tokens."""
        cfg = self.cfg
        b, t, _ = memory.shape
        s = self._init(memory)
        processed = self.attention.memory(memory)
        prev = memory.new_zeros(b, cfg.n_features * cfg.reduction)
        lengths = lengths.long()
        limit = (cfg.max_steps_per_token * lengths.float()).long() + 10
        if max_dwell is not None:
            limit = torch.maximum(limit, max_dwell.sum(1) + 10)
        max_steps = max_steps or int(limit.max())
        pointer = torch.zeros(b, dtype=torch.long)
        dwell = torch.zeros(b, dtype=torch.long)
        forced = torch.zeros(b, dtype=torch.bool)  # moved on by the dwell limit: that token keeps one step
        done = torch.zeros(b, dtype=torch.bool)
        stopped = torch.zeros(b, dtype=torch.bool)
        n_steps = torch.zeros(b, dtype=torch.long)
        positions = torch.arange(t).unsqueeze(0)
        pad = positions >= lengths.unsqueeze(1)
        frames, attn = [], []
        for _ in range(max_steps):
            if use_mask:
                ahead = torch.where(forced, 0, cfg.mask_ahead).unsqueeze(1)
                window = (positions < (pointer - cfg.mask_back).unsqueeze(1)) | (positions > (pointer.unsqueeze(1) + ahead))
            else:
                window = torch.zeros(b, t, dtype=torch.bool)
            f, g = self.step(s, prev, memory, processed, window | pad)
            prev = f
            frames.append(f)
            attn.append(s["w"].clone())
            n_steps += (~done).long()
            peak = s["w"].argmax(1)
            if use_mask:
                dwell = torch.where(peak <= pointer, dwell + 1, torch.ones_like(dwell))
                pointer = torch.maximum(pointer, peak)
                forced[:] = False
                if max_dwell is not None:
                    stall = dwell >= max_dwell.gather(1, pointer.unsqueeze(1)).squeeze(1)
                    at_last = pointer >= lengths - 1
                    end_now = stall & at_last & ~done  # dwelt its full time on the final token: the end
                    stopped |= end_now
                    done |= end_now
                    move = stall & ~at_last  # stalled: move on (only ever forwards)
                    pointer = torch.where(move, pointer + 1, pointer)
                    dwell = torch.where(move, torch.zeros_like(dwell), dwell)
                    forced = move
                gate_ok = (torch.sigmoid(g) > 0.5) & (pointer >= lengths - 2) & ~forced
            else:
                pointer = peak
                gate_ok = torch.sigmoid(g) > 0.5
            end_now = gate_ok & ~done
            stopped |= end_now
            done |= end_now | (n_steps >= limit)
            if bool(done.all()):
                break
        frames, attn = torch.stack(frames, 1), torch.stack(attn, 1)  # [B, steps, r*n], [B, steps, T]
        return [Decoded(frames[i, : int(n_steps[i])], attn[i, : int(n_steps[i]), : int(lengths[i])], bool(stopped[i]))
                for i in range(b)]


class SpeakerEncoder(nn.Module):
    """Symbols + speaker -> memory: the text encoder both of our models share, with the speaker
    embedding projected onto every token. Its parameter names (embedding, speaker, encoder,
    speaker_proj) sit at the top level of each model, as in the shipped checkpoints."""

    def init_encoder(self, cfg: EncoderConfig) -> None:
        self.embedding = nn.Embedding(cfg.n_symbols, cfg.symbol_dim, padding_idx=0)
        self.speaker = nn.Embedding(cfg.n_speakers, cfg.speaker_dim)
        self.encoder = Encoder(cfg)
        self.speaker_proj = nn.Linear(cfg.speaker_dim, cfg.encoder_dim)

    def encode(self, ids, lengths, speaker):
        memory = self.encoder(self.embedding(ids), lengths)
        return memory + self.speaker_proj(self.speaker(speaker)).unsqueeze(1)


class Tacotron2(SpeakerEncoder):
    def __init__(self, cfg: TacotronConfig):
        super().__init__()
        self.cfg = cfg
        self.init_encoder(cfg)
        self.decoder = Decoder(cfg)
        self.postnet = Postnet(cfg)
        self.duration = DurationPredictor(cfg.encoder_dim)

    def forward(self, ids, lengths, speaker, targets):
        memory = self.encode(ids, lengths, speaker)
        pad_mask = torch.arange(ids.shape[1]).unsqueeze(0) >= lengths.unsqueeze(1)
        b, steps, _ = targets.shape
        frames, gates, attn = self.decoder(memory, pad_mask, targets)
        frames = frames.reshape(b, steps * self.cfg.reduction, self.cfg.n_features)
        return frames, frames + self.postnet(frames), gates, attn, self.duration(memory)

    def max_dwell(self, memory):
        """Steps attention may stay on each token before the pointer moves on: a margin over the
        duration head's estimate (it only catches a stalled attention)."""
        estimate = torch.expm1(self.duration(memory)).clamp_min(1.0)
        return (self.cfg.max_dwell_scale * estimate + self.cfg.max_dwell_extra).round().long()

    @torch.no_grad()
    def infer_batch(self, ids_list, speakers, use_mask: bool = True) -> list[Decoded]:
        """Decode several lines at once (evaluation of thousands of lines); frames before the postnet."""
        lengths = torch.tensor([len(x) for x in ids_list])
        ids = nn.utils.rnn.pad_sequence([torch.as_tensor(x) for x in ids_list], batch_first=True)
        memory = self.encode(ids, lengths, torch.as_tensor(speakers))
        return self.decoder.infer(memory, lengths, use_mask, self.max_dwell(memory) if use_mask else None)

    @torch.no_grad()
    def infer(self, ids, speaker, use_mask: bool = True):
        """One line -> (features [frames, n_features] after the postnet, attention [steps, T], stopped)."""
        memory = self.encode(ids, torch.tensor([ids.shape[1]]), speaker)
        (out,) = self.decoder.infer(memory, torch.tensor([ids.shape[1]]), use_mask, self.max_dwell(memory))
        frames = out.frames.reshape(1, -1, self.cfg.n_features)
        return (frames + self.postnet(frames))[0], out.attention, out.stopped


class FastSpeechLite(SpeakerEncoder):
    """Non-autoregressive acoustic model on the same encoder: durations (teacher's at training,
    predicted or planned at inference) expand the encoder states frame by frame; a per-token pitch
    (mean log F0) is an input too, predicted when not given; convolutions map the expanded states
    to WORLD features. No exposure bias, parallel in time, and durations are exact by design."""

    def __init__(self, cfg: FastSpeechConfig):
        super().__init__()
        self.cfg = cfg
        self.init_encoder(cfg)
        self.duration = DurationPredictor(cfg.encoder_dim)
        self.pitch = DurationPredictor(cfg.encoder_dim)  # same shape of head: one value per token
        self.pitch_embed = nn.Conv1d(1, cfg.encoder_dim, 3, padding=1)
        dim, k = cfg.decoder_dim, cfg.decoder_kernel
        self.inp = nn.Linear(cfg.encoder_dim + 1, dim)
        # speaker again at the frame decoder: timbre is a frame-level property
        self.speaker_frame = nn.Linear(cfg.speaker_dim, dim)
        self.convs = nn.ModuleList(nn.Conv1d(dim, dim, k, padding=k // 2) for _ in range(cfg.decoder_layers))
        self.norms = nn.ModuleList(nn.LayerNorm(dim) for _ in range(cfg.decoder_layers))
        self.out = nn.Linear(dim, cfg.n_features)
        self.postnet = Postnet(cfg)

    def expand(self, memory, frames_per_token):
        """Length regulator: token k is repeated frames_per_token[k] times (feature frames), with its
        relative position inside the token as an extra channel (where in the phoneme we are)."""
        out = []
        for b in range(memory.shape[0]):
            reps = frames_per_token[b].clamp_min(0)
            x = torch.repeat_interleave(memory[b], reps, dim=0)
            starts = torch.repeat_interleave(torch.cumsum(reps, 0) - reps, reps)
            pos = (torch.arange(len(x)) - starts) / torch.repeat_interleave(reps, reps).clamp_min(1)
            out.append(torch.cat([x, pos.unsqueeze(1).to(x.dtype)], 1))
        return nn.utils.rnn.pad_sequence(out, batch_first=True)

    def decode(self, expanded, speaker):
        x = self.inp(expanded) + self.speaker_frame(self.speaker(speaker)).unsqueeze(1)
        for conv, norm in zip(self.convs, self.norms):
            x = x + F.dropout(norm(F.relu(conv(x.transpose(1, 2)).transpose(1, 2))), self.cfg.decoder_dropout,
                              self.training)
        frames = self.out(x)
        return frames, frames + self.postnet(frames)

    def forward(self, ids, lengths, speaker, frames_per_token, token_pitch):
        memory = self.encode(ids, lengths, speaker)
        log_dur, pitch = self.duration(memory), self.pitch(memory)
        memory = memory + self.pitch_embed(token_pitch.unsqueeze(1)).transpose(1, 2)
        frames, post = self.decode(self.expand(memory, frames_per_token), speaker)
        return frames, post, log_dur, pitch

    @torch.no_grad()
    def infer(self, ids, speaker, frames_per_token=None, token_pitch=None, pitch_shift: float = 0.0):
        """frames_per_token: feature frames (12.5 ms) per token; None = predicted natural durations."""
        memory = self.encode(ids, torch.tensor([ids.shape[1]]), speaker)
        if frames_per_token is None:
            steps = torch.expm1(self.duration(memory)).clamp_min(1.0).round()
            frames_per_token = (steps * self.cfg.reduction).long()
        if token_pitch is None:
            token_pitch = self.pitch(memory) + pitch_shift
        memory = memory + self.pitch_embed(token_pitch.unsqueeze(1)).transpose(1, 2)
        _, post = self.decode(self.expand(memory, frames_per_token), speaker)
        return post[0], frames_per_token[0]
