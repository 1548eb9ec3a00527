"""PyTorch on the same machine as our benchmarks: the baseline their ratios need.

Measures, for each CPU thread count and on CUDA when present:
  - float32 matmul GFLOP/s (N x N x N; TF32 off on CUDA, so it is the same arithmetic as ours);
  - one MLM training step of BertForMaskedLM in the `tiny` config of benchmarks/train-step.ts
    (V=8000, H=256, 4 layers, 4 heads, I=1024, batch 16 x 128, dropout 0.1, 30% of tokens
    labelled), forward + backward + clip 1.0 + AdamW, as tokens/s.

    python3 torch_baseline.py [--threads 2,16] [--reps 5] [--json FILE]
"""
import argparse
import json
import statistics
import time

import torch


def timed(fn, reps, sync):
    fn()
    sync()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def matmul_rows(device, sizes, reps, sync, label):
    rows = []
    for n in sizes:
        a = torch.rand(n, n, device=device) - 0.5
        b = torch.rand(n, n, device=device) - 0.5
        s = timed(lambda: a @ b, reps, sync)
        rows.append({"what": "matmul", "device": label, "n": n, "ms": s * 1e3, "gflops": 2 * n**3 / s / 1e9})
        print(f"{label} matmul {n}: {s * 1e3:.2f} ms, {2 * n**3 / s / 1e9:.1f} GFLOP/s", flush=True)
    return rows


def train_row(device, reps, sync, label):
    from transformers import BertConfig, BertForMaskedLM

    torch.manual_seed(0)
    config = BertConfig(vocab_size=8000, hidden_size=256, num_hidden_layers=4, num_attention_heads=4,
                        intermediate_size=1024, max_position_embeddings=512, hidden_dropout_prob=0.1,
                        attention_probs_dropout_prob=0.1, attn_implementation="eager")
    model = BertForMaskedLM(config).to(device).train()
    batch, length = 16, 128
    ids = torch.randint(5, 8000, (batch, length), device=device)
    labels = torch.where(torch.rand(batch, length, device=device) < 0.3, ids, torch.full_like(ids, -100))
    mask = torch.ones(batch, length, dtype=torch.long, device=device)
    decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or "LayerNorm" in n)]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-4)

    def step():
        out = model(input_ids=ids, attention_mask=mask, labels=labels)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)

    s = timed(step, reps, sync)
    row = {"what": "mlm-train-step-tiny", "device": label, "ms": s * 1e3, "tokens_per_s": batch * length / s}
    print(f"{label} MLM train step (tiny): {s * 1e3:.1f} ms, {batch * length / s:.0f} tokens/s", flush=True)
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default="2,16")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--json")
    args = ap.parse_args()
    rows = []
    info = {"torch": torch.__version__, "cuda": torch.cuda.is_available()}
    for t in [int(x) for x in args.threads.split(",")]:
        torch.set_num_threads(t)
        label = f"cpu-{t}t"
        rows += matmul_rows("cpu", [1024, 2048], args.reps, lambda: None, label)
        rows.append(train_row("cpu", args.reps, lambda: None, label))
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        sync = torch.cuda.synchronize
        rows += matmul_rows("cuda", [1024, 2048, 4096], args.reps * 4, sync, "cuda-fp32")
        rows.append(train_row("cuda", args.reps * 4, sync, "cuda-fp32"))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"benchmark": "torch-baseline", "info": info, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
