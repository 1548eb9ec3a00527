"""Replays the exact MLM or RetroMAE batches of our experiment run (dump-batches.ts) in PyTorch.

If PyTorch, fed the same batches with the same optimiser and schedule, ends at our loss, our
trainer is not why our losses sit above the reference run's; if it ends at the reference's, it is.
Runs (each on the same batches): "ours-init" starts from our init checkpoint (HF names), "hf-init"
from transformers' own initialisation (torch seed 42).

    python3 torch_replay.py BATCHES.bin.gz --init runs/experiment/runs/init-s42 [--json OUT] [--device cuda]
    python3 torch_replay.py RETROMAE_BATCHES.bin.gz --init ... --retromae --save-dir OUT_DIR

RetroMAE batches (dump-batches.ts --decoder-ratio) train BertForMaskedLM plus a PyTorch c_head
written here from the paper (H1 = CLS + position embeddings; H2 = [CLS; embeddings of the
unmasked ids 2..L]; M from the batch; loss = encoder MLM + decoder loss through the tied head),
starting from our init's encoder and c_head. --save-dir writes the trained weights with our
checkpoint's names, split in two safetensors files (part-a: word embeddings and c_head; part-b:
the rest) that merge_safetensors.py joins into one model.safetensors.
"""
import argparse
import gzip
import json
import math
import os
import time

import numpy as np
import torch
from transformers import BertConfig, BertForMaskedLM, get_linear_schedule_with_warmup


def load_batches(path):
    raw = gzip.open(path, "rb").read()
    newline = raw.index(b"\n")
    header = json.loads(raw[:newline])
    body = np.frombuffer(raw[newline + 1:], dtype=np.int16)
    b, length, steps = header["batch"], header["length"], header["steps"]
    per_step = 2 * b * length + b
    if body.size != steps * per_step:
        raise SystemExit(f"{path}: {body.size} int16 values, expected {steps} steps x {per_step}")
    body = body.reshape(steps, per_step)
    ids = body[:, : b * length].reshape(steps, b, length).astype(np.int64)
    labels = body[:, b * length: 2 * b * length].reshape(steps, b, length).astype(np.int64)
    lengths = body[:, 2 * b * length:].astype(np.int64)
    mask = (np.arange(length)[None, None, :] < lengths[:, :, None]).astype(np.int64)
    return header, ids, labels, mask


def optimizer_and_schedule(named, steps, lr=1e-3, warmup_ratio=0.1):
    """The experiment's AdamW (eps 1e-6, weight decay 0.01 except biases and LayerNorms, as our
    trainer's rule) and linear warm-up/decay over `steps`."""
    no_decay = lambda n: n.endswith("bias") or "LayerNorm" in n or "layer_norm" in n
    opt = torch.optim.AdamW([{"params": [p for n, p in named if not no_decay(n)], "weight_decay": 0.01},
                             {"params": [p for n, p in named if no_decay(n)], "weight_decay": 0.0}],
                            lr=lr, eps=1e-6, betas=(0.9, 0.999))
    return opt, get_linear_schedule_with_warmup(opt, int(warmup_ratio * steps), steps)


def train(model, ids, labels, mask, device):
    steps = ids.shape[0]
    opt, sched = optimizer_and_schedule(list(model.named_parameters()), steps)
    model.to(device).train()
    losses, grad_norms = [], []
    for s in range(steps):
        out = model(input_ids=torch.from_numpy(ids[s]).to(device), attention_mask=torch.from_numpy(mask[s]).to(device),
                    labels=torch.from_numpy(labels[s]).to(device))
        out.loss.backward()
        grad_norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)))
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        losses.append(out.loss.item())
    return losses, grad_norms


def load_retromae_batches(path):
    """The header and, per step, the raw int16 fields and the packed M blocks (unpack_step expands them)."""
    raw = gzip.open(path, "rb").read()
    newline = raw.index(b"\n")
    header = json.loads(raw[:newline])
    b, length = header["batch"], header["length"]
    offset = newline + 1
    steps = []
    for _ in range(header["steps"]):
        fixed = np.frombuffer(raw, dtype=np.int16, count=3 * b * length + b, offset=offset)
        offset += fixed.nbytes
        lengths = fixed[2 * b * length: 2 * b * length + b].astype(np.int64)
        blocks = []
        for n in lengths:
            count = (int(n) * int(n) + 7) // 8
            blocks.append(np.frombuffer(raw, dtype=np.uint8, count=count, offset=offset))
            offset += count
        steps.append((fixed, lengths, blocks))
    if offset != len(raw):
        raise SystemExit(f"{path}: parsed {offset} of {len(raw)} bytes")
    return header, steps


def unpack_step(step, b, length):
    fixed, lengths, blocks = step
    ids = fixed[: b * length].reshape(b, length).astype(np.int64)
    labels = fixed[b * length: 2 * b * length].reshape(b, length).astype(np.int64)
    decoder_ids = fixed[2 * b * length + b:].reshape(b, length).astype(np.int64)
    m = np.zeros((b, length, length), dtype=bool)
    for row, (n, block) in enumerate(zip(lengths, blocks)):
        n = int(n)
        m[row, :n, :n] = np.unpackbits(block)[: n * n].reshape(n, n).astype(bool)
    mask = (np.arange(length)[None, :] < lengths[:, None]).astype(np.int64)
    decoder_labels = np.full((b, length), -100, dtype=np.int64)
    for row, n in enumerate(lengths):
        decoder_labels[row, 1: int(n) - 1] = decoder_ids[row, 1: int(n) - 1]
    return ids, labels, mask, decoder_ids, decoder_labels, m


class CHead(torch.nn.Module):
    """The enhanced decoder's one layer: queries from H1, keys and values from H2, rows masked by M."""

    def __init__(self, hidden, intermediate, heads, eps, dropout):
        super().__init__()
        self.heads = heads
        self.query = torch.nn.Linear(hidden, hidden)
        self.key = torch.nn.Linear(hidden, hidden)
        self.value = torch.nn.Linear(hidden, hidden)
        self.dense = torch.nn.Linear(hidden, hidden)
        self.attention_layer_norm = torch.nn.LayerNorm(hidden, eps=eps)
        self.intermediate = torch.nn.Linear(hidden, intermediate)
        self.output_dense = torch.nn.Linear(intermediate, hidden)
        self.output_layer_norm = torch.nn.LayerNorm(hidden, eps=eps)
        self.drop = torch.nn.Dropout(dropout)

    def forward(self, h1, h2, m):
        b, length, hidden = h1.shape
        d = hidden // self.heads
        split = lambda x: x.view(b, length, self.heads, d).transpose(1, 2)
        q, k, v = split(self.query(h1)), split(self.key(h2)), split(self.value(h2))
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(d)
        scores = scores.masked_fill(~m[:, None], torch.finfo(scores.dtype).min)
        context = (self.drop(scores.softmax(-1)) @ v).transpose(1, 2).reshape(b, length, hidden)
        attention = self.attention_layer_norm(self.drop(self.dense(context)) + h1)
        feed = self.output_dense(torch.nn.functional.gelu(self.intermediate(attention)))
        return self.output_layer_norm(self.drop(feed) + attention)


def retromae_loss(model, c_head, ids, labels, mask, decoder_ids, decoder_labels, m):
    vocab = model.config.vocab_size
    last = model.bert(input_ids=ids, attention_mask=mask).last_hidden_state
    ce = torch.nn.functional.cross_entropy
    encoder_loss = ce(model.cls(last).view(-1, vocab), labels.view(-1), ignore_index=-100)
    h_cls = last[:, :1]
    length = ids.shape[1]
    positions = torch.arange(length, device=ids.device)
    h1 = model.bert.embeddings.position_embeddings(positions)[None] + h_cls
    embedded = model.bert.embeddings(input_ids=decoder_ids)
    h2 = torch.cat([h_cls, embedded[:, 1:]], dim=1)
    hidden = c_head(h1, h2, m)
    decoder_loss = ce(model.cls(hidden).view(-1, vocab), decoder_labels.view(-1), ignore_index=-100)
    return encoder_loss, decoder_loss


def train_retromae(args):
    from safetensors.torch import load_file, save_file

    header, steps = load_retromae_batches(args.batches)
    b, length = header["batch"], header["length"]
    print(f"{len(steps)} RetroMAE batches [{b}, {length}], decoder ratio {header['decoderRatio']}, device {args.device}", flush=True)
    torch.manual_seed(42)
    model = BertForMaskedLM.from_pretrained(args.init, attn_implementation="eager")
    config = model.config
    c_head = CHead(config.hidden_size, config.intermediate_size, config.num_attention_heads, config.layer_norm_eps, config.hidden_dropout_prob)
    weights = load_file(os.path.join(args.init, "model.safetensors"))
    c_head.load_state_dict({k[len("c_head."):]: v for k, v in weights.items() if k.startswith("c_head.")}, strict=False)
    missing = [k for k in c_head.state_dict() if f"c_head.{k}" not in weights]
    if missing:
        raise SystemExit(f"{args.init}: c_head weights missing: {missing}")
    model.to(args.device).train()
    c_head.to(args.device).train()
    named = list(model.named_parameters()) + [(f"c_head.{n}", p) for n, p in c_head.named_parameters()]
    opt, sched = optimizer_and_schedule(named, len(steps))
    params = [p for _, p in named]
    encoder_losses, decoder_losses = [], []
    t0 = time.time()
    for s, step in enumerate(steps):
        arrays = unpack_step(step, b, length)
        ids, labels, mask, decoder_ids, decoder_labels, m = (torch.from_numpy(x).to(args.device) for x in arrays)
        encoder_loss, decoder_loss = retromae_loss(model, c_head, ids, labels, mask, decoder_ids, decoder_labels, m)
        (encoder_loss + decoder_loss).backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        encoder_losses.append(encoder_loss.item())
        decoder_losses.append(decoder_loss.item())
        if (s + 1) % 200 == 0:
            print(f"step {s + 1}: encoder {np.mean(encoder_losses[-10:]):.3f} decoder {np.mean(decoder_losses[-10:]):.3f} ({time.time() - t0:.0f} s)", flush=True)
    results = {"header": header, "torch": torch.__version__, "device": args.device, "seconds": time.time() - t0,
               "runs": {"retromae-ours-init": {"losses": [e + d for e, d in zip(encoder_losses, decoder_losses)],
                                               "encoderLosses": encoder_losses, "decoderLosses": decoder_losses}}}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f)
    if args.save_dir:
        os.makedirs(args.save_dir, exist_ok=True)
        state = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()
                 if k in weights}
        state.update({f"c_head.{k}": v.detach().cpu().contiguous().clone() for k, v in c_head.state_dict().items()})
        if set(state) != set(weights):
            print(f"note: saved keys differ from the init's: missing {sorted(set(weights) - set(state))}, extra {sorted(set(state) - set(weights))}", flush=True)
        part_a = {k: v for k, v in state.items() if k.startswith("c_head.") or k == "bert.embeddings.word_embeddings.weight"}
        part_b = {k: v for k, v in state.items() if k not in part_a}
        save_file(part_a, os.path.join(args.save_dir, "part-a.safetensors"), metadata={"format": "pt"})
        save_file(part_b, os.path.join(args.save_dir, "part-b.safetensors"), metadata={"format": "pt"})
        print(f"saved {len(state)} tensors to {args.save_dir}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("batches")
    ap.add_argument("--init", required=True)
    ap.add_argument("--json")
    ap.add_argument("--runs", default="ours-init,hf-init")
    ap.add_argument("--retromae", action="store_true")
    ap.add_argument("--save-dir")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    if args.retromae:
        return train_retromae(args)
    header, ids, labels, mask = load_batches(args.batches)
    print(f"{ids.shape[0]} batches {ids.shape[1:]} ({int((labels != -100).sum())} scored tokens), device {args.device}", flush=True)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    results = {"header": header, "torch": torch.__version__, "device": args.device, "runs": {}}
    for name in args.runs.split(","):
        torch.manual_seed(42)
        if name == "ours-init":
            model, info = BertForMaskedLM.from_pretrained(args.init, attn_implementation="eager", output_loading_info=True)
            print(f"loaded {args.init}: {json.dumps({k: list(v) for k, v in info.items() if v})}", flush=True)
        else:
            config = BertConfig.from_pretrained(args.init)
            config._attn_implementation = "eager"
            model = BertForMaskedLM(config)
        t0 = time.time()
        losses, norms = train(model, ids, labels, mask, args.device)
        windows = {f"{e - 9}-{e}": float(np.mean(losses[e - 10:e])) for e in (10, 100, 300, 600, 900, 1200) if e <= len(losses)}
        results["runs"][name] = {"losses": losses, "gradNorms": norms, "windows": windows, "seconds": time.time() - t0}
        print(f"{name}: {time.time() - t0:.1f} s; mean loss by window {json.dumps({k: round(v, 3) for k, v in windows.items()})}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f)


if __name__ == "__main__":
    main()
