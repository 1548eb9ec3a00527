"""PyTorch's side of `npm run bench:train`: one RetroMAE or MLM training step of the same config.

Plain torch (no transformers needed, so Debian's python3-torch is enough), written the way the
official RetroMAE code runs it on HF modules: BERT layers (post-LayerNorm, exact GELU, eager
attention with the [B, 1, 1, L] additive padding mask), the MLM head tied to the word embeddings
and applied to every position (as HF BertForMaskedLM does), the enhanced decoder's one layer with
queries from H1 = CLS + position embeddings, keys/values from H2 = [CLS; embeddings of the
unmasked ids 2..L], rows masked by M, dropout 0.1 everywhere HF has it, clip 1.0 and AdamW.

Debian's python3-torch calls whatever libblas.so.3 resolves to; with only the reference BLAS
installed its matmuls run at ~1 GFLOP/s, no baseline at all. The caller puts OpenBLAS first
(bench:train --torch-lib DIR, or `apt-get install libopenblas0-pthread`); this script reports the
BLAS it loaded and a 512^3 matmul's GFLOP/s so the row says what it measured.

Inputs come from the caller as JSON (so both sides train on the same batch):

    /usr/bin/python3 torch_train_step.py --spec SPEC.json   # prints one JSON line on stdout

SPEC: {config: {vocab, hidden, layers, heads, intermediate, batch, length}, objective: "retromae"|"mlm",
threads, reps, batch: {encoderInputIds, encoderLabels, decoderInputIds, decoderLabels, m (0/1, [B*L*L])}}.
Output: {objective, torch, threads, blas (library paths), matmul512Gflops, ms, forwardMs, backwardMs, optimizerMs, tokensPerSecond, peakRssMb, reps,
steps: [{forward, backward, optimizer} ms per timed step]}.
"""
import argparse
import json
import math
import resource
import statistics
import time

import torch
import torch.nn.functional as F


class Embeddings(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word = torch.nn.Embedding(c["vocab"], c["hidden"], padding_idx=0)
        self.position = torch.nn.Embedding(512, c["hidden"])
        self.token_type = torch.nn.Embedding(2, c["hidden"])
        self.norm = torch.nn.LayerNorm(c["hidden"], eps=1e-12)
        self.drop = torch.nn.Dropout(0.1)

    def forward(self, ids):
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = self.word(ids) + self.position(positions)[None] + self.token_type.weight[0]
        return self.drop(self.norm(x))


class Layer(torch.nn.Module):
    """A BertLayer; also the enhanced decoder's layer (queries from one stream, keys/values from another)."""

    def __init__(self, c):
        super().__init__()
        h, self.heads = c["hidden"], c["heads"]
        self.query = torch.nn.Linear(h, h)
        self.key = torch.nn.Linear(h, h)
        self.value = torch.nn.Linear(h, h)
        self.dense = torch.nn.Linear(h, h)
        self.attention_norm = torch.nn.LayerNorm(h, eps=1e-12)
        self.intermediate = torch.nn.Linear(h, c["intermediate"])
        self.output_dense = torch.nn.Linear(c["intermediate"], h)
        self.output_norm = torch.nn.LayerNorm(h, eps=1e-12)
        self.drop = torch.nn.Dropout(0.1)

    def forward(self, query_stream, kv_stream, additive_mask):
        b, length, hidden = query_stream.shape
        d = hidden // self.heads
        split = lambda x: x.view(b, -1, self.heads, d).transpose(1, 2)
        q, k, v = split(self.query(query_stream)), split(self.key(kv_stream)), split(self.value(kv_stream))
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(d) + additive_mask
        context = (self.drop(scores.softmax(-1)) @ v).transpose(1, 2).reshape(b, length, hidden)
        attention = self.attention_norm(self.drop(self.dense(context)) + query_stream)
        feed = self.output_dense(F.gelu(self.intermediate(attention)))
        return self.output_norm(self.drop(feed) + attention)


class RetroMAE(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.vocab = c["vocab"]
        self.embeddings = Embeddings(c)
        self.layers = torch.nn.ModuleList([Layer(c) for _ in range(c["layers"])])
        self.transform = torch.nn.Linear(c["hidden"], c["hidden"])
        self.transform_norm = torch.nn.LayerNorm(c["hidden"], eps=1e-12)
        self.head_bias = torch.nn.Parameter(torch.zeros(c["vocab"]))
        self.c_head = Layer(c)
        for p in self.parameters():
            if p.dim() > 1:
                torch.nn.init.normal_(p, std=0.02)

    def mlm_loss(self, hidden, labels):
        logits = F.linear(self.transform_norm(F.gelu(self.transform(hidden))), self.embeddings.word.weight, self.head_bias)
        return F.cross_entropy(logits.view(-1, self.vocab), labels.view(-1), ignore_index=-100)

    def forward(self, ids, labels, decoder_ids, decoder_labels, m, mlm_only):
        padding = torch.zeros(ids.shape[0], 1, 1, ids.shape[1])  # full-length rows: nothing masked
        x = self.embeddings(ids)
        for layer in self.layers:
            x = layer(x, x, padding)
        loss = self.mlm_loss(x, labels)
        if mlm_only:
            return loss
        cls = x[:, :1]
        h1 = self.embeddings.position.weight[: ids.shape[1]][None] + cls
        h2 = torch.cat([cls, self.embeddings(decoder_ids)[:, 1:]], dim=1)
        m_additive = torch.where(m[:, None], 0.0, torch.finfo(torch.float32).min)
        return loss + self.mlm_loss(self.c_head(h1, h2, m_additive), decoder_labels)


def blas_library():
    """The BLAS shared object torch loaded (Debian's torch takes whatever libblas.so.3 resolves to)."""
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "blas" in line.lower() and "/" in line}
    return sorted(paths)


def matmul_gflops(n=512, reps=5):
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n**3 * reps / (time.perf_counter() - t0) / 1e9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", required=True)
    args = ap.parse_args()
    with open(args.spec) as f:
        spec = json.load(f)
    c, data = spec["config"], spec["batch"]
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(0)
    b, length = c["batch"], c["length"]
    as_ids = lambda key: torch.tensor(data[key], dtype=torch.long).view(b, length)
    ids, labels = as_ids("encoderInputIds"), as_ids("encoderLabels")
    decoder_ids, decoder_labels = as_ids("decoderInputIds"), as_ids("decoderLabels")
    m = torch.tensor(data["m"], dtype=torch.bool).view(b, length, length)
    mlm_only = spec["objective"] == "mlm"
    model = RetroMAE(c).train()
    no_decay = lambda n: n.endswith("bias") or "norm" in n
    named = list(model.named_parameters())
    opt = torch.optim.AdamW([{"params": [p for n, p in named if not no_decay(n)], "weight_decay": 0.01},
                             {"params": [p for n, p in named if no_decay(n)], "weight_decay": 0.0}], lr=1e-4)
    params = [p for _, p in named]
    times = []
    for r in range(spec["reps"] + 1):  # one warm-up step, as ours
        t0 = time.perf_counter()
        loss = model(ids, labels, decoder_ids, decoder_labels, m, mlm_only)
        loss.item()
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        t3 = time.perf_counter()
        if r > 0:
            times.append((t1 - t0, t2 - t1, t3 - t2))
    med = lambda xs: statistics.median(xs) * 1e3
    ms = med([sum(t) for t in times])
    print(json.dumps({
        "objective": spec["objective"], "torch": torch.__version__, "threads": torch.get_num_threads(),
        "blas": blas_library(), "matmul512Gflops": matmul_gflops(),
        "ms": ms, "forwardMs": med([t[0] for t in times]), "backwardMs": med([t[1] for t in times]),
        "optimizerMs": med([t[2] for t in times]), "tokensPerSecond": b * length / (ms / 1e3),
        "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "reps": spec["reps"],
        "steps": [{"forward": t[0] * 1e3, "backward": t[1] * 1e3, "optimizer": t[2] * 1e3} for t in times],
    }))


if __name__ == "__main__":
    main()
