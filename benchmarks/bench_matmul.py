"""Does MindSpore's CPU MatMul use both cores? The same jitted chain of products, pinned to all
cores and to one, in child processes that alternate.

    python benchmarks/bench_matmul.py [--rounds 2]

Each child runs a chain of 10 products x @ W in one graph (256x400 @ 400x400, the size of the
learner's hidden layers at batch 256, and 1024-cubed) and prints GFLOP/s and its process CPU time
over wall time (about 1 on one core; near 2 when two cores are busy). Linux only (taskset-style
affinity through os.sched_setaffinity, set before MindSpore starts its threads).
"""
import argparse
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZES = ((256, 400, 200), (1024, 1024, 10))  # (rows, width, graph calls)


def child() -> None:
    sys.path.insert(0, ROOT)
    import src.runtime  # noqa: F401  (before mindspore)
    import numpy as np
    import mindspore as ms
    from mindspore import ops
    ms.set_context(mode=ms.GRAPH_MODE)
    ms.set_device("CPU")

    @ms.jit
    def chain(x, w):
        for _ in range(10):
            x = ops.matmul(x, w)
        return x

    rng = np.random.default_rng(0)
    for rows, width, calls in SIZES:
        x = ms.Tensor(rng.random((rows, width), np.float32))
        w = ms.Tensor((rng.random((width, width), np.float32) / width).astype(np.float32))
        chain(x, w).asnumpy()  # compile
        start, cpu0 = time.perf_counter(), os.times()
        for _ in range(calls):
            out = chain(x, w)
        out.asnumpy()
        wall, cpu1 = time.perf_counter() - start, os.times()
        cpu = cpu1.user - cpu0.user + cpu1.system - cpu0.system
        gflops = 2 * rows * width * width * 10 * calls / wall / 1e9
        print(f"{rows}x{width} @ {width}x{width}: {gflops:6.1f} GFLOP/s, cpu/wall {cpu / wall:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        os.sched_setaffinity(0, {int(c) for c in args.child.split(",")})
        child()
        return 0
    cores = sorted(os.sched_getaffinity(0))
    settings = {f"cores {','.join(map(str, cores))}": cores, f"core {cores[-1]}": cores[-1:]}
    for _ in range(args.rounds):
        for name, use in settings.items():
            res = subprocess.run([sys.executable, __file__, "--child", ",".join(map(str, use))],
                                 capture_output=True, text=True, check=True)
            for line in res.stdout.strip().splitlines():
                print(f"{name:10s} {line}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
