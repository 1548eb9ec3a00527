"""Replays the exact MLM batches of our experiment run (dump-batches.ts) in PyTorch.

If PyTorch, fed the same batches with the same optimiser and schedule, ends at our loss, our
trainer is not why our losses sit above the reference run's; if it ends at the reference's, it is.
Runs (each on the same batches): "ours-init" starts from our init checkpoint (HF names), "hf-init"
from transformers' own initialisation (torch seed 42).

    python3 torch_replay.py BATCHES.bin.gz --init runs/experiment/runs/init-s42 [--json OUT] [--device cuda]
"""
import argparse
import gzip
import json
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


def train(model, ids, labels, mask, device, lr=1e-3, warmup_ratio=0.1):
    steps = ids.shape[0]
    decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or "LayerNorm" in n)]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=lr, eps=1e-6, betas=(0.9, 0.999))
    sched = get_linear_schedule_with_warmup(opt, int(warmup_ratio * steps), steps)
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("batches")
    ap.add_argument("--init", required=True)
    ap.add_argument("--json")
    ap.add_argument("--runs", default="ours-init,hf-init")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
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
