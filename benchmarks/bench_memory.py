"""Replay memory: peak RSS of a process holding a full 1,000,000-transition buffer.

    python benchmarks/bench_memory.py [--capacity 1000000] [--obs_dim 17] [--act_dim 6]

HalfCheetah-sized transitions (17-dim observation, 6-dim action). The buffer is filled
completely (every page touched) through ReplayBuffer.add in batches, then sampled; the script
prints the process's peak RSS before and after, and the difference.
"""
import argparse
import os
import resource
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

from src.replay_buffer import ReplayBuffer  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capacity", type=int, default=1_000_000)
    parser.add_argument("--obs_dim", type=int, default=17)
    parser.add_argument("--act_dim", type=int, default=6)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    chunk = 10_000
    src = [rng.standard_normal((chunk, args.obs_dim)).astype(np.float32),
           rng.standard_normal((chunk, args.act_dim)).astype(np.float32),
           rng.standard_normal(chunk).astype(np.float32),
           rng.standard_normal((chunk, args.obs_dim)).astype(np.float32),
           np.zeros(chunk, np.float32)]
    before = peak_rss_mb()
    buf = ReplayBuffer(args.capacity, args.obs_dim, args.act_dim)
    for _ in range(args.capacity // chunk + 1):  # one chunk more than fits: wraps around
        buf.add(*src)
    for _ in range(100):
        buf.sample(256, rng)
    after = peak_rss_mb()
    arrays = sum(a.nbytes for a in (buf.obs, buf.act, buf.rew, buf.next_obs, buf.terminated))
    print(f"capacity {args.capacity}, obs {args.obs_dim}, act {args.act_dim}, stored {len(buf)}")
    print(f"buffer arrays: {arrays / 2**20:.1f} MiB")
    print(f"peak RSS before: {before:.1f} MiB, after: {after:.1f} MiB, "
          f"growth: {after - before:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
