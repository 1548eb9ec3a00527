"""The shapes of gemm-by-shape.ts through numpy (OpenBLAS): OPENBLAS_NUM_THREADS=2 python3 gemm-by-shape.py"""
import time
import numpy as np

CASES = [('qkvo fwd', 512, 768, 768, 0, 1), ('qkvo dX', 512, 768, 768, 0, 0), ('qkvo dW', 768, 512, 768, 1, 0),
         ('up fwd', 512, 768, 3072, 0, 1), ('up dX', 512, 3072, 768, 0, 0), ('up dW', 3072, 512, 768, 1, 0),
         ('down fwd', 512, 3072, 768, 0, 1), ('down dX', 512, 768, 3072, 0, 0), ('down dW', 768, 512, 3072, 1, 0),
         ('head fwd', 512, 768, 21128, 0, 1), ('head dX', 512, 21128, 768, 0, 0), ('head dW', 21128, 512, 768, 1, 0)]
for name, m, k, n, ta, tb in CASES:
    a = np.random.rand(*((k, m) if ta else (m, k))).astype(np.float32)
    b = np.random.rand(*((n, k) if tb else (k, n))).astype(np.float32)
    A, B = (a.T if ta else a), (b.T if tb else b)
    A @ B
    times = []
    for _ in range(7):
        start = time.perf_counter()
        A @ B
        times.append(time.perf_counter() - start)
    ms = sorted(times)[3] * 1e3
    print(f"{name:10s} {m}x{k}x{n} tA={ta} tB={tb}  {ms:.1f} ms  {2 * m * n * k / ms / 1e6:.1f} GFLOP/s")
