"""Independent float64 NumPy BERT masked-LM loss and central finite differences, compared with
the float32 loss and gradients check-gradients.ts wrote. Reads the checkpoint's
model.safetensors and config.json itself; shares no code with the TypeScript packages.

    python3 benchmarks/experiment/check_gradients.py OUT.json [--entries 2]

Prints one line per checked entry (the largest-magnitude gradient and random ones of each
listed tensor) and exits 1 if any |ours - fd| exceeds 1e-4 x the tensor's largest |grad| (the
tolerance ../shared/fixtures/README.md suggests for float32: rounding scales with a tensor's
largest terms, not with its tiniest entries). Plain relative errors are printed too."""
import json, struct, sys
import numpy as np

try:
    from scipy.special import erf
except ImportError:  # pragma: no cover - slower fallback
    import math
    erf = np.vectorize(math.erf)

data = json.load(open(sys.argv[1]))
extra = int(sys.argv[sys.argv.index('--entries') + 1]) if '--entries' in sys.argv else 1
ckpt = data['checkpoint']
config = json.load(open(f'{ckpt}/config.json'))
raw = open(f'{ckpt}/model.safetensors', 'rb').read()
header_len = struct.unpack('<Q', raw[:8])[0]
header = json.loads(raw[8:8 + header_len])
W = {}
for name, meta in header.items():
    if name == '__metadata__':
        continue
    a, b = meta['data_offsets']
    assert meta['dtype'] == 'F32', f'{name}: expected F32, found {meta["dtype"]}'
    W[name] = np.frombuffer(raw[8 + header_len + a:8 + header_len + b], dtype=np.float32).reshape(meta['shape']).astype(np.float64).copy()

B, L = data['B'], data['L']
ids = np.array(data['inputIds']).reshape(B, L)
mask = np.array(data['attentionMask']).reshape(B, L)
labels = np.array(data['labels']).reshape(B, L)
H, heads, layers = config['hidden_size'], config['num_attention_heads'], config['num_hidden_layers']
eps = config.get('layer_norm_eps', 1e-12)
head_dim = H // heads


def layer_norm(x, w, b):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def gelu(x):
    return 0.5 * x * (1 + erf(x / np.sqrt(2)))


def loss():
    p = 'bert.'
    x = W[p + 'embeddings.word_embeddings.weight'][ids] + W[p + 'embeddings.position_embeddings.weight'][:L][None] + W[p + 'embeddings.token_type_embeddings.weight'][0]
    x = layer_norm(x, W[p + 'embeddings.LayerNorm.weight'], W[p + 'embeddings.LayerNorm.bias'])
    additive = (1 - mask)[:, None, None, :] * -1e30
    for l in range(layers):
        q = f'{p}encoder.layer.{l}.'
        linear = lambda t, n: t @ W[q + n + '.weight'].T + W[q + n + '.bias']
        split = lambda t: t.reshape(B, L, heads, head_dim).transpose(0, 2, 1, 3)
        Q, K, V = (split(linear(x, f'attention.self.{n}')) for n in ('query', 'key', 'value'))
        scores = Q @ K.transpose(0, 1, 3, 2) / np.sqrt(head_dim) + additive
        scores -= scores.max(-1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(-1, keepdims=True)
        context = (probs @ V).transpose(0, 2, 1, 3).reshape(B, L, H)
        x = layer_norm(linear(context, 'attention.output.dense') + x, W[q + 'attention.output.LayerNorm.weight'], W[q + 'attention.output.LayerNorm.bias'])
        x = layer_norm(linear(gelu(linear(x, 'intermediate.dense')), 'output.dense') + x, W[q + 'output.LayerNorm.weight'], W[q + 'output.LayerNorm.bias'])
    t = gelu(x @ W['cls.predictions.transform.dense.weight'].T + W['cls.predictions.transform.dense.bias'])
    t = layer_norm(t, W['cls.predictions.transform.LayerNorm.weight'], W['cls.predictions.transform.LayerNorm.bias'])
    decoder = W.get('cls.predictions.decoder.weight', W[p + 'embeddings.word_embeddings.weight'])
    logits = t @ decoder.T + W['cls.predictions.bias']
    selected = labels != -100
    z, y = logits[selected], labels[selected]
    top = z.max(-1)
    return float((np.log(np.exp(z - top[:, None]).sum(-1)) + top - z[np.arange(len(y)), y]).mean())


reference = loss()
print(f'loss: ours (float32) {data["loss"]:.7f}  numpy float64 {reference:.7f}  rel {abs(data["loss"] - reference) / reference:.1e}')
worst = abs(data['loss'] - reference) / reference
worst_relative = worst
rng = np.random.default_rng(0)
names = [n for n in data['grads'] if not n.endswith('key.bias')]  # key biases: zero gradient by softmax shift invariance
for name in names:
    ours = np.array(data['grads'][name])
    flat = W[name].reshape(-1)
    picks = [int(np.argmax(np.abs(ours)))] + [int(i) for i in rng.integers(0, len(ours), extra)]
    for i in picks:
        h = 1e-5
        original = flat[i]
        flat[i] = original + h
        up = loss()
        flat[i] = original - h
        down = loss()
        flat[i] = original
        fd = (up - down) / (2 * h)
        scaled = abs(ours[i] - fd) / max(np.abs(ours).max(), 1e-12)
        relative = abs(ours[i] - fd) / max(abs(fd), 1e-12)
        worst = max(worst, scaled)
        worst_relative = max(worst_relative, relative)
        print(f'{name}[{i}]: ours {ours[i]: .6e}  fd64 {fd: .6e}  err/max|grad| {scaled:.1e}  rel {relative:.1e}')
print(f'{len(names)} tensors: worst |ours - fd| / max|grad| {worst:.1e}, worst plain relative error {worst_relative:.1e}')
sys.exit(0 if worst < 1e-4 else 1)
