"""Gradient updates per second: this package's fused learner vs the same update in eager PyTorch.

    pip install -r requirements-bench.txt
    python benchmarks/bench_learner.py [--batches 64 256] [--rounds 5] [--updates 200]

Both sides do the same work per update on Pendulum-v1 shapes: critic 400-300 MSE TD step with
Adam, actor 400-300 step on -Q with Adam, soft update of both targets (tau 0.005), from a NumPy
batch (this package takes grad_steps_per_call batches per graph call, as the trainer does).
PyTorch runs eagerly as Stable-Baselines3's DDPG does (its default threads: one per
core). The contenders alternate, `updates` each per round; the ratio is of medians over rounds.

A second table times only the update's 28 matrix products (forward and backward GEMMs of the
four network passes, same shapes), back to back in one MindSpore graph and in eager PyTorch: a
floor under the full update's time that no amount of fusing removes, and the share of the update
that is the framework's own overhead.
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


def update_gemms(batch: int, obs_dim: int, act_dim: int, hidden=(400, 300)):
    """(m, k, n) of every matrix product in one DDPG update (critic step, then actor step)."""
    h1, h2 = hidden

    def forward(in_dim, out_dim):
        return [(batch, in_dim, h1), (batch, h1, h2), (batch, h2, out_dim)]

    def weight_grads(in_dim, out_dim):  # dW = x^T dy for the three layers
        return [(h2, batch, out_dim), (h1, batch, h2), (in_dim, batch, h1)]

    def input_grads(in_dim, out_dim, first_layer: bool):  # dx = dy W^T
        return [(batch, out_dim, h2), (batch, h2, h1)] + ([(batch, h1, in_dim)] if first_layer else [])

    critic_in, actor_in = obs_dim + act_dim, obs_dim
    critic_step = (forward(actor_in, act_dim) + forward(critic_in, 1) + forward(critic_in, 1)
                   + weight_grads(critic_in, 1) + input_grads(critic_in, 1, False))
    actor_step = (forward(actor_in, act_dim) + forward(critic_in, 1)
                  + input_grads(critic_in, 1, True) + weight_grads(actor_in, act_dim)
                  + input_grads(actor_in, act_dim, False))
    return critic_step + actor_step


def mindspore_gemms(shapes, k):
    """`k` updates' worth of the products in one graph call (distinct operands: no CSE)."""
    import mindspore as ms
    from mindspore import ops
    rng = np.random.default_rng(1)
    lhs = tuple(ms.Tensor(rng.standard_normal((m, kk)).astype(np.float32))
                for _ in range(k) for m, kk, _ in shapes)
    rhs = tuple(ms.Tensor(rng.standard_normal((kk, n)).astype(np.float32))
                for _ in range(k) for _, kk, n in shapes)

    @ms.jit
    def run(lhs, rhs):
        return tuple(ops.matmul(a, b) for a, b in zip(lhs, rhs))

    def update(_):
        run(lhs, rhs)
    return update, lambda: None, k


def torch_gemms(shapes):
    import torch
    lhs = [torch.randn(m, kk) for m, kk, _ in shapes]
    rhs = [torch.randn(kk, n) for _, kk, n in shapes]
    outs = [torch.empty(m, n) for m, _, n in shapes]

    def update(_):
        for a, b, c in zip(lhs, rhs, outs):
            torch.mm(a, b, out=c)
    return update, lambda: None, 1


def race(contenders, feeds, rounds: int, updates: int):
    """Median updates/s of each contender over `rounds` alternating rounds."""
    for name, (update, sync, k) in contenders.items():  # warm-up and compile
        for b in feeds[name]:
            update(b)
        sync()
    rates = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, (update, sync, k) in contenders.items():
            calls = updates // k
            start = time.perf_counter()
            for i in range(calls):
                update(feeds[name][i % len(feeds[name])])
            sync()
            rates[name].append(calls * k / (time.perf_counter() - start))
    return {name: statistics.median(r) for name, r in rates.items()}, rates


def report(batch_size: int, what: str, med, rates) -> None:
    names = list(med)
    for name in names:
        print(f"batch {batch_size:4d}  {what:13s} {name:28s} {med[name]:8.1f} updates/s "
              f"(rounds: {', '.join(f'{x:.0f}' for x in rates[name])})")
    print(f"batch {batch_size:4d}  {what:13s} ratio mindspore / pytorch: "
          f"{med[names[0]] / med[names[1]]:.2f}x", flush=True)


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

        def inputs(k):
            """What one call takes: a batch, or k batches stacked as [k, B, ...]."""
            if k == 1:
                return batches
            return [tuple(np.stack(xs) for xs in zip(*(batches[(j + i) % len(batches)]
                                                      for i in range(k))))
                    for j in range(len(batches))]
        feeds = {name: inputs(k) for name, (_, _, k) in contenders.items()}
        report(batch_size, "full update", *race(contenders, feeds, args.rounds, args.updates))
        shapes = update_gemms(batch_size, obs_dim, act_dim)
        k = contenders[next(iter(contenders))][2]
        gemms = {"mindspore (one graph)": mindspore_gemms(shapes, k),
                 f"pytorch {torch.__version__} mm": torch_gemms(shapes)}
        report(batch_size, f"{len(shapes)} GEMMs only",
               *race(gemms, {name: [None] for name in gemms}, args.rounds, args.updates))
    return 0


if __name__ == "__main__":
    sys.exit(main())
