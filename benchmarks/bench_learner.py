"""Gradient updates per second: this package's fused learner vs the same update in eager PyTorch.

    pip install -r requirements-bench.txt
    python benchmarks/bench_learner.py [--batches 64 256] [--rounds 5] [--updates 200]

Both sides do the same work per update on Pendulum-v1 shapes: critic 400-300 MSE TD step with
Adam, actor 400-300 step on -Q with Adam, soft update of both targets (tau 0.005), from a NumPy
batch (this package takes grad_steps_per_call batches per graph call, as the trainer does).
PyTorch runs eagerly as Stable-Baselines3's DDPG does (its default threads: one per
core). The contenders alternate, `updates` each per round; the ratio is of medians over rounds.
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


def mindspore_learner(obs_dim, act_dim, high):
    from src.config import load_config
    from src.environment import EnvSpec
    from src.learner import Learner
    from src.runtime import init_mindspore
    init_mindspore("CPU", 0, 0)
    cfg, _ = load_config([])
    spec = EnvSpec("bench", obs_dim, act_dim, -high, high, None)
    learner = Learner(spec, cfg)

    def update(batches):
        learner.update(batches)

    def sync():
        learner.read_stats()
    return update, sync, cfg.grad_steps_per_call


def torch_learner(obs_dim, act_dim, high, gamma=0.99, tau=0.005, lr=1e-3):
    import torch
    from torch import nn

    class Actor(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(obs_dim, 400), nn.ReLU(), nn.Linear(400, 300),
                                     nn.ReLU(), nn.Linear(300, act_dim), nn.Tanh())
            self.scale = torch.as_tensor(high)

        def forward(self, s):
            return self.net(s) * self.scale

    class Critic(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(obs_dim + act_dim, 400), nn.ReLU(),
                                     nn.Linear(400, 300), nn.ReLU(), nn.Linear(300, 1))

        def forward(self, s, a):
            return self.net(torch.cat([s, a], -1)).squeeze(-1)

    actor, critic = Actor(), Critic()
    actor_t, critic_t = Actor(), Critic()
    actor_t.load_state_dict(actor.state_dict())
    critic_t.load_state_dict(critic.state_dict())
    a_opt = torch.optim.Adam(actor.parameters(), lr=lr)
    c_opt = torch.optim.Adam(critic.parameters(), lr=lr)

    def soft(target, online):
        with torch.no_grad():
            for t, o in zip(target.parameters(), online.parameters()):
                t.mul_(1 - tau).add_(o, alpha=tau)

    stats = []

    def update(batch):
        s, a, r, s2, d = (torch.as_tensor(x) for x in batch)
        with torch.no_grad():
            y = r + gamma * (1 - d) * critic_t(s2, actor_t(s2))
        q = critic(s, a)
        c_loss = ((q - y) ** 2).mean()
        c_opt.zero_grad()
        c_loss.backward()
        c_opt.step()
        a_loss = -critic(s, actor(s)).mean()
        a_opt.zero_grad()
        a_loss.backward()
        a_opt.step()
        soft(critic_t, critic)
        soft(actor_t, actor)
        stats.append(c_loss.detach())

    def sync():
        if stats:
            float(torch.stack(stats).mean())
            stats.clear()
    return update, sync, 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--updates", type=int, default=200)
    args = parser.parse_args()
    import torch
    obs_dim, act_dim, high = 3, 1, np.array([2.0], np.float32)
    contenders = {"mindspore (this package)": mindspore_learner(obs_dim, act_dim, high),
                  f"pytorch {torch.__version__} eager": torch_learner(obs_dim, act_dim, high)}
    rng = np.random.default_rng(0)
    print(f"torch threads: {torch.get_num_threads()}; "
          f"MS_DEV_HOST_BLOCKING_RUN={os.environ.get('MS_DEV_HOST_BLOCKING_RUN')}")
    for batch_size in args.batches:
        batches = [(rng.standard_normal((batch_size, obs_dim)).astype(np.float32),
                    rng.uniform(-2, 2, (batch_size, act_dim)).astype(np.float32),
                    rng.standard_normal(batch_size).astype(np.float32),
                    rng.standard_normal((batch_size, obs_dim)).astype(np.float32),
                    (rng.random(batch_size) < 0.01).astype(np.float32)) for _ in range(16)]
        rates = {name: [] for name in contenders}

        def inputs(k):
            """What one call takes: a batch, or k batches stacked as [k, B, ...]."""
            if k == 1:
                return batches
            return [tuple(np.stack(xs) for xs in zip(*(batches[(j + i) % len(batches)]
                                                      for i in range(k))))
                    for j in range(len(batches))]
        feeds = {name: inputs(k) for name, (_, _, k) in contenders.items()}
        for name, (update, sync, k) in contenders.items():  # warm-up and compile
            for b in feeds[name]:
                update(b)
            sync()
        for _ in range(args.rounds):
            for name, (update, sync, k) in contenders.items():
                calls = args.updates // k
                start = time.perf_counter()
                for i in range(calls):
                    update(feeds[name][i % len(feeds[name])])
                sync()
                rates[name].append(calls * k / (time.perf_counter() - start))
        med = {name: statistics.median(r) for name, r in rates.items()}
        names = list(contenders)
        for name in names:
            print(f"batch {batch_size:4d}  {name:28s} {med[name]:8.1f} updates/s "
                  f"(rounds: {', '.join(f'{x:.0f}' for x in rates[name])})")
        print(f"batch {batch_size:4d}  ratio mindspore / pytorch: {med[names[0]] / med[names[1]]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
