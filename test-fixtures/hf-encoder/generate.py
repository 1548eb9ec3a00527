"""
HF-layout encoder fixtures: a bare `BertModel` folder (bge / text2vec / sentence-transformers
layout) and a `BertForMaskedLM` folder, with the tensors named exactly as HF transformers'
save_pretrained writes them, plus expected outputs computed in float64 by the BERT forward written
below (no transformers code: transformers >= 4.57 needs PyTorch >= 2.1 and Debian ships 1.13).

Run with Debian's python (torch 1.13): /usr/bin/python3 test-fixtures/hf-encoder/generate.py
Deterministic (seeded); writes the two folders beside this file.
"""
import json
import math
import os
import struct

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(20260101)

V, H, NL, NH, I, P = 120, 32, 2, 4, 64, 64
EPS = 1e-12
SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
# Ordinary tokens: CJK characters (each its own word for BERT's basic tokenizer).
CHARS = [chr(0x4E00 + 7 * k) for k in range(V - len(SPECIALS))]
VOCAB = SPECIALS + CHARS
TEXTS = [
    ''.join(CHARS[(3 * i + 1) % len(CHARS)] for i in range(10)),
    ''.join(CHARS[(5 * i + 2) % len(CHARS)] for i in range(4)),
    ''.join(CHARS[(11 * i + 7) % len(CHARS)] for i in range(14)),
    CHARS[42],
]


def config(architecture):
    """config.json as transformers 4.x save_pretrained writes it for a BERT of these sizes."""
    return {
        "architectures": [architecture],
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": H,
        "initializer_range": 0.02,
        "intermediate_size": I,
        "layer_norm_eps": EPS,
        "max_position_embeddings": P,
        "model_type": "bert",
        "num_attention_heads": NH,
        "num_hidden_layers": NL,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
        "transformers_version": "4.30.2",
        "type_vocab_size": 2,
        "use_cache": True,
        "vocab_size": V,
    }


def rand(*shape, std=0.15, mean=0.0):
    return (torch.randn(*shape, dtype=torch.float64) * std + mean).float()


def body_weights():
    """BertModel parameters under HF's unprefixed names (as BertModel.save_pretrained writes them)."""
    w = {
        "embeddings.word_embeddings.weight": rand(V, H, std=0.3),
        "embeddings.position_embeddings.weight": rand(P, H, std=0.3),
        "embeddings.token_type_embeddings.weight": rand(2, H, std=0.3),
        "embeddings.LayerNorm.weight": rand(H, std=0.1, mean=1.0),
        "embeddings.LayerNorm.bias": rand(H, std=0.1),
    }
    for l in range(NL):
        p = f"encoder.layer.{l}."
        for n in ["query", "key", "value"]:
            w[p + f"attention.self.{n}.weight"] = rand(H, H)
            w[p + f"attention.self.{n}.bias"] = rand(H, std=0.05)
        w[p + "attention.output.dense.weight"] = rand(H, H)
        w[p + "attention.output.dense.bias"] = rand(H, std=0.05)
        w[p + "attention.output.LayerNorm.weight"] = rand(H, std=0.1, mean=1.0)
        w[p + "attention.output.LayerNorm.bias"] = rand(H, std=0.1)
        w[p + "intermediate.dense.weight"] = rand(I, H)
        w[p + "intermediate.dense.bias"] = rand(I, std=0.05)
        w[p + "output.dense.weight"] = rand(H, I)
        w[p + "output.dense.bias"] = rand(H, std=0.05)
        w[p + "output.LayerNorm.weight"] = rand(H, std=0.1, mean=1.0)
        w[p + "output.LayerNorm.bias"] = rand(H, std=0.1)
    return w


def layer_norm(x, g, b):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + EPS) * g + b


def gelu(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def linear(x, w, name):
    return x @ w[name + ".weight"].double().T + w[name + ".bias"].double()


def forward(w, ids, mask):
    """Float64 BERT encoder (eval mode: no dropout). ids, mask [B, L] -> [B, L, H]."""
    d = {k: v.double() for k, v in w.items()}
    B, L = ids.shape
    x = d["embeddings.word_embeddings.weight"][ids] + d["embeddings.position_embeddings.weight"][torch.arange(L)][None] + d["embeddings.token_type_embeddings.weight"][0]
    x = layer_norm(x, d["embeddings.LayerNorm.weight"], d["embeddings.LayerNorm.bias"])
    additive = (1.0 - mask.double())[:, None, None, :] * torch.finfo(torch.float32).min
    hd = H // NH
    for l in range(NL):
        p = f"encoder.layer.{l}."
        split = lambda t: t.view(B, L, NH, hd).transpose(1, 2)
        q, k, v = (split(linear(x, d, p + f"attention.self.{n}")) for n in ["query", "key", "value"])
        scores = q @ k.transpose(-1, -2) / math.sqrt(hd) + additive
        ctx = (torch.softmax(scores, -1) @ v).transpose(1, 2).reshape(B, L, H)
        x = layer_norm(linear(ctx, d, p + "attention.output.dense") + x, d[p + "attention.output.LayerNorm.weight"], d[p + "attention.output.LayerNorm.bias"])
        inner = gelu(linear(x, d, p + "intermediate.dense"))
        x = layer_norm(linear(inner, d, p + "output.dense") + x, d[p + "output.LayerNorm.weight"], d[p + "output.LayerNorm.bias"])
    return x


def write_safetensors(path, tensors, metadata=None):
    """The safetensors layout: u64 header length, JSON header (8-byte padded), packed data."""
    codes = {torch.float32: ("F32", "<f"), torch.int64: ("I64", "<q")}
    header, chunks, offset = {"__metadata__": metadata or {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        dtype, fmt = codes[t.dtype]
        values = t.flatten().tolist()
        data = struct.pack(f"<{len(values)}{fmt[1]}", *values)
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f, indent=2, ensure_ascii=False)
        f.write("\n")


def tokenizer_files(folder):
    with open(os.path.join(folder, "vocab.txt"), "w") as f:
        f.write("\n".join(VOCAB) + "\n")
    write_json(os.path.join(folder, "tokenizer_config.json"), {
        "clean_up_tokenization_spaces": True, "cls_token": "[CLS]", "do_basic_tokenize": True, "do_lower_case": True,
        "mask_token": "[MASK]", "model_max_length": P, "never_split": None, "pad_token": "[PAD]", "sep_token": "[SEP]",
        "strip_accents": None, "tokenize_chinese_chars": True, "tokenizer_class": "BertTokenizer", "unk_token": "[UNK]",
    })
    write_json(os.path.join(folder, "special_tokens_map.json"), {
        "cls_token": "[CLS]", "mask_token": "[MASK]", "pad_token": "[PAD]", "sep_token": "[SEP]", "unk_token": "[UNK]",
    })


def batch():
    seqs = [[2] + [VOCAB.index(c) for c in t] + [3] for t in TEXTS]
    L = max(len(s) for s in seqs)
    ids = torch.tensor([s + [0] * (L - len(s)) for s in seqs])
    mask = torch.tensor([[1] * len(s) + [0] * (L - len(s)) for s in seqs])
    return seqs, ids, mask


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] != "F32":
            continue
        a, b = info["data_offsets"]
        values = struct.unpack(f"<{(b - a) // 4}f", raw[8 + n + a:8 + n + b])
        out[name] = torch.tensor(values, dtype=torch.float32).reshape(info["shape"])
    return out


def self_check():
    """The forward above must reproduce ../retromae/bert (same sizes; HF-cross-checked) first."""
    folder = os.path.join(HERE, "..", "retromae", "bert")
    weights = {k[len("bert."):]: v for k, v in read_safetensors(os.path.join(folder, "model.safetensors")).items() if k.startswith("bert.")}
    inputs = json.load(open(os.path.join(folder, "inputs.json")))
    expected = read_safetensors(os.path.join(folder, "expected.safetensors"))["encoder.last_hidden_state"].double()
    got = forward(weights, torch.tensor(inputs["encoder_input_ids"]), torch.tensor(inputs["attention_mask"]))
    err = (got - expected).abs().max().item()
    assert err <= 1e-6 * expected.abs().max().item(), f"self-check against retromae/bert failed: max error {err}"
    print(f"self-check: forward matches retromae/bert encoder.last_hidden_state to {err:.2e}")


def main():
    self_check()
    body = body_weights()
    pooler = {"pooler.dense.weight": rand(H, H), "pooler.dense.bias": rand(H, std=0.05)}
    head = {
        "cls.predictions.transform.dense.weight": rand(H, H),
        "cls.predictions.transform.dense.bias": rand(H, std=0.05),
        "cls.predictions.transform.LayerNorm.weight": rand(H, std=0.1, mean=1.0),
        "cls.predictions.transform.LayerNorm.bias": rand(H, std=0.1),
        "cls.predictions.bias": rand(V, std=0.1),
    }
    seqs, ids, mask = batch()
    hidden = forward(body, ids, mask)
    m = mask.double()[..., None]
    cls = hidden[:, 0]
    mean = (hidden * m).sum(1) / m.sum(1)
    unit = lambda x: x / x.norm(dim=-1, keepdim=True)
    inputs = {"texts": TEXTS, "input_ids": ids.tolist(), "attention_mask": mask.tolist()}

    # bare BertModel, sentence-transformers layout (bge-style: CLS pooling, normalised)
    folder = os.path.join(HERE, "bert-model")
    os.makedirs(os.path.join(folder, "1_Pooling"), exist_ok=True)
    tensors = {**body, **pooler}
    # transformers < 4.31 also saved the position_ids buffer (bge-*-zh-v1.5 files have it).
    tensors["embeddings.position_ids"] = torch.arange(P, dtype=torch.int64)[None]
    write_safetensors(os.path.join(folder, "model.safetensors"), tensors)
    write_json(os.path.join(folder, "config.json"), config("BertModel"))
    tokenizer_files(folder)
    write_json(os.path.join(folder, "modules.json"), [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    write_json(os.path.join(folder, "sentence_bert_config.json"), {"max_seq_length": P, "do_lower_case": False})
    write_json(os.path.join(folder, "1_Pooling", "config.json"), {
        "word_embedding_dimension": H, "pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False,
        "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False,
    })
    write_json(os.path.join(folder, "inputs.json"), inputs)
    pooled = torch.tanh(linear(cls, {k: v.double() for k, v in pooler.items()}, "pooler.dense"))
    write_safetensors(os.path.join(folder, "expected.safetensors"), {
        "last_hidden_state": hidden.float(), "pooler_output": pooled.float(),
        "sentence_embedding_cls_normalized": unit(cls).float(), "sentence_embedding_mean": mean.float(),
    }, {"format": "pt", "note": "float64 reference rounded to float32, eval mode"})

    # BertForMaskedLM: bert.* body (no pooler) + cls.predictions.*, tied decoder weight omitted
    folder = os.path.join(HERE, "bert-for-masked-lm")
    os.makedirs(folder, exist_ok=True)
    tensors = {**{f"bert.{k}": v for k, v in body.items()}, **head}
    write_safetensors(os.path.join(folder, "model.safetensors"), tensors)
    write_json(os.path.join(folder, "config.json"), config("BertForMaskedLM"))
    tokenizer_files(folder)
    write_json(os.path.join(folder, "inputs.json"), inputs)
    d = {k: v.double() for k, v in head.items()}
    t = layer_norm(gelu(linear(hidden, d, "cls.predictions.transform.dense")), d["cls.predictions.transform.LayerNorm.weight"], d["cls.predictions.transform.LayerNorm.bias"])
    logits = t @ body["embeddings.word_embeddings.weight"].double().T + d["cls.predictions.bias"]
    write_safetensors(os.path.join(folder, "expected.safetensors"), {
        "last_hidden_state": hidden.float(), "logits": logits.float(),
    }, {"format": "pt", "note": "float64 reference rounded to float32, eval mode"})


if __name__ == "__main__":
    main()
