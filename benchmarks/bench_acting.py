"""Acting latency: one action for one observation, the trainer's host actor vs the MindSpore Cell.

    python benchmarks/bench_acting.py [--obs_dim 3] [--act_dim 1] [--calls 5000]

Both use the default 400-300 actor with the same weights; the two are called in alternating
blocks of 500 calls and the median latency of each is printed.
"""
import argparse
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import src.runtime  # noqa: E402,F401  (before mindspore)
import numpy as np  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--obs_dim", type=int, default=3)
    parser.add_argument("--act_dim", type=int, default=1)
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    from src.runtime import init_mindspore
    init_mindspore("CPU", 0, 0)
    import mindspore as ms
    from src.networks import ActorNet, HostActor
    high = np.full(args.act_dim, 2.0, np.float32)
    actor = ActorNet(args.obs_dim, args.act_dim, [400, 300], -high, high)
    host = HostActor(actor)
    obs = np.random.default_rng(0).standard_normal((1, args.obs_dim)).astype(np.float32)
    contenders = {"host actor (NumPy, used by the trainer)": lambda: host(obs),
                  "MindSpore Cell + asnumpy": lambda: actor(ms.Tensor(obs)).asnumpy()}
    np.testing.assert_allclose(contenders["host actor (NumPy, used by the trainer)"](),
                               contenders["MindSpore Cell + asnumpy"](), rtol=1e-5, atol=1e-6)
    times = {name: [] for name in contenders}
    for _ in range(args.calls // 500):
        for name, fn in contenders.items():
            for _ in range(500):
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    for name, t in times.items():
        print(f"{name:42s} median {statistics.median(t) * 1e3:.4f} ms  "
              f"p90 {sorted(t)[int(0.9 * len(t))] * 1e3:.4f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
