"""Same start, same batches, same noise: does this package's TD3 step end where the TD3
authors' own code (github.com/sfujim/TD3) ends?

    git clone https://github.com/sfujim/TD3 && git -C TD3 checkout bc98e62   # --loop paper
    pip install -r requirements-bench.txt
    python benchmarks/check_td3_authors_step.py --td3_dir TD3 --loop paper [--steps 8]

tests/test_td3.py checks the TD3 step against an op-by-op reference written for this package;
this script checks it against the authors' TD3.py (imported unchanged from --td3_dir, torch
autograd and torch's Adam): their networks' initial weights are copied into a Learner (both
backends), then `--steps` iterations run on both sides from the same random batches (Hopper's
shapes: 11 observations, 3 actions in [-1, 1]) with the same target-smoothing draws (the
authors' draw is replaced by ours, then scaled and clipped by their code). For every network
the script prints the largest rms(ours - theirs) / rms(their change) over its tensors, and
exits 1 if one exceeds --tolerance.

Keep --steps short: over hundreds of steps on random data float32 rounding grows into visible
differences, between this package's own two backends (the same maths) too. Measured, paper
settings, largest over the networks: after 200 steps ours vs theirs 0.25 (graph) and 3.8
(native), graph vs native 1.4e-2; after 400 steps graph vs native 0.49.

--loop paper   their camera-ready TD3.py (bc98e62): 400-300, Adam 1e-3, batch 100, the actor
               and target updates on iterations 1, 3, 5, ... of a train() call; the Learner's
               delay counter starts at 1 so its delayed steps fall on the same iterations.
--loop current their TD3.py since 2019: 256-256, Adam 3e-4, batch 256, actor and target
               updates on every second call (the presets' settings).
"""
import argparse
import os
import sys
import types

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench_td3_authors import import_authors, make_policy  # noqa: E402
from src.config import load_config  # noqa: E402
from src.environment import EnvSpec  # noqa: E402
from src.learner import Learner  # noqa: E402

OBS_DIM, ACT_DIM = 11, 3  # Hopper's
NETS = ("actor", "actor_target", "critic", "critic_target", "critic2", "critic2_target")
# What each loop's TD3.py uses: (hidden sizes, learning rate, batch size).
SETTINGS = {"paper": ("400,300", 0.001, 100), "current": ("256,256", 0.0003, 256)}


def learner(loop: str, backend: str) -> Learner:
    hidden, lr, _ = SETTINGS[loop]
    cfg, _ = load_config([
        "--twin_critics", "true", "--policy_delay", "2", "--target_policy_noise", "0.2",
        "--target_noise_clip", "0.5", "--policy_hidden_sizes", hidden,
        "--qf_hidden_sizes", hidden, "--policy_lr", str(lr), "--qf_lr", str(lr),
        "--discount", "0.99", "--target_update_tau", "0.005", "--final_layer_init", "0",
        "--learner_backend", backend])
    spec = EnvSpec("check", OBS_DIM, ACT_DIM, -np.ones(ACT_DIM, np.float32),
                   np.ones(ACT_DIM, np.float32), None)
    return Learner(spec, cfg)


def their_layers(policy) -> dict:
    """Their Linear layers under our network names, each network's layers in order."""
    c, ct = policy.critic, policy.critic_target
    return {"actor": [policy.actor.l1, policy.actor.l2, policy.actor.l3],
            "actor_target": [policy.actor_target.l1, policy.actor_target.l2,
                             policy.actor_target.l3],
            "critic": [c.l1, c.l2, c.l3], "critic_target": [ct.l1, ct.l2, ct.l3],
            "critic2": [c.l4, c.l5, c.l6], "critic2_target": [ct.l4, ct.l5, ct.l6]}


def copy_into(ours: Learner, layers: dict) -> None:
    """Their weights into our networks (both store a Dense/Linear weight as [out, in])."""
    import mindspore as ms
    for net in NETS:
        for dense, linear in zip(getattr(ours.nets, net).layers, layers[net]):
            dense.weight.set_data(ms.Tensor(linear.weight.detach().numpy().copy()))
            dense.bias.set_data(ms.Tensor(linear.bias.detach().numpy().copy()))


def make_batches(steps: int, batch: int, seed: int):
    rng = np.random.default_rng(seed)
    f = np.float32
    return (rng.standard_normal((steps, batch, OBS_DIM)).astype(f),
            rng.uniform(-1, 1, (steps, batch, ACT_DIM)).astype(f),
            rng.standard_normal((steps, batch)).astype(f),
            rng.standard_normal((steps, batch, OBS_DIM)).astype(f),
            (rng.random((steps, batch)) < 0.1).astype(f),
            rng.standard_normal((steps, batch, ACT_DIM)).astype(f))


def adam_eps_as_mindspore(optimizer, eps: float = 1e-8, beta2: float = 0.999) -> None:
    """Makes a torch Adam take MindSpore's epsilon: nn.Adam adds eps to sqrt(v) before the
    bias correction, torch after it, so torch's eps acts eps * sqrt(1 - beta2^t) in
    MindSpore's terms. Only the first thousands of steps differ, and only where a gradient is
    near eps (1e-8); but in a check that starts from step 1 those differ by a whole learning
    rate. Setting torch's eps to eps / sqrt(1 - beta2^t) before its step t matches them."""
    step, count = optimizer.step, [0]

    def step_with_mindspore_eps(*args, **kwargs):
        count[0] += 1
        for group in optimizer.param_groups:
            group["eps"] = eps / np.sqrt(1.0 - beta2 ** count[0])
        return step(*args, **kwargs)
    optimizer.step = step_with_mindspore_eps


def run_theirs(td3, loop: str, policy, batches) -> None:
    """Their iterations on our batches, with our standard normal draws as their noise."""
    import torch
    obs, act, rew, nxt, term, noise = batches
    draws, rows = iter(noise), iter(range(len(obs)))

    class Buffer:  # their replay buffer's sample(), giving our batches in order
        def sample(self, batch_size):
            i = next(rows)
            if loop == "paper":
                return (obs[i], nxt[i], act[i], rew[i][:, None], term[i][:, None])
            t = torch.from_numpy
            return (t(obs[i]), t(act[i]), t(nxt[i]), t(rew[i][:, None]),
                    t(1.0 - term[i][:, None]))

    if loop == "paper":
        # Their train() draws np.random.normal(0, policy_noise, size); one call, all iterations.
        fake_np = types.SimpleNamespace(**{k: getattr(np, k) for k in dir(np)
                                           if not k.startswith("__")})
        fake_np.random = types.SimpleNamespace(
            normal=lambda loc, scale, size: loc + scale * next(draws).astype(np.float64))
        td3.np = fake_np
        policy.train(Buffer(), len(obs))
        return

    class TorchWithOurNoise:  # their module's `torch`, with randn_like giving our draws
        def __getattr__(self, name):
            return getattr(torch, name)

        @staticmethod
        def randn_like(x):
            return torch.from_numpy(next(draws))
    td3.torch = TorchWithOurNoise()
    for _ in range(len(obs)):  # current: one iteration per train() call
        policy.train(Buffer(), obs.shape[1])


def snapshot(layers: dict) -> dict:
    """{network: [weight, bias, weight, ...]} as NumPy copies of their parameters."""
    return {net: [p.detach().numpy().copy() for lin in layers[net]
                  for p in (lin.weight, lin.bias)] for net in NETS}


def worst(ours: list, theirs: list, start: list):
    """The largest rms(ours - theirs) / rms(theirs - start) over a network's parameters (how
    far apart the two ended, as a fraction of how far their steps moved), and which one.

    RMS rather than the largest element: an Adam step is lr * m / (sqrt(v) + eps), so where a
    gradient is near zero float32 rounding alone can change an element's step by a good part
    of the learning rate; that is noise, not a difference of the algorithms."""
    rel = [float(np.sqrt(np.mean((a - b) ** 2)) / max(np.sqrt(np.mean((b - c) ** 2)), 1e-30))
           for a, b, c in zip(ours, theirs, start)]
    i = int(np.argmax(rel))
    return rel[i], f"layer {i // 2 + 1} {('weight', 'bias')[i % 2]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--td3_dir", required=True, help="a checkout of github.com/sfujim/TD3")
    parser.add_argument("--loop", choices=tuple(SETTINGS), required=True)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tolerance", type=float, default=0.01,
                        help="largest rms(ours - theirs) / rms(their change) allowed")
    parser.add_argument("--adam_eps", choices=("mindspore", "torch"), default="mindspore",
                        help="mindspore: their Adam's eps follows nn.Adam's convention "
                             "(see adam_eps_as_mindspore); torch: left as theirs")
    args = parser.parse_args()
    if args.steps < 2:
        raise SystemExit("error: --steps must be at least 2 (a delayed actor step needs two)")
    import torch
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    td3, _ = import_authors(args.td3_dir, args.loop)
    batches = make_batches(args.steps, SETTINGS[args.loop][2], args.seed)
    import mindspore as ms
    failed = False
    for backend in ("graph", "native"):
        policy = make_policy(td3, args.loop, OBS_DIM, ACT_DIM, 1.0)
        layers = their_layers(policy)
        start = snapshot(layers)
        if args.adam_eps == "mindspore":
            for opt in (policy.actor_optimizer, policy.critic_optimizer):
                adam_eps_as_mindspore(opt)
        ours = learner(args.loop, backend)
        copy_into(ours, layers)
        if args.loop == "paper":  # their actor steps on iterations 1, 3, ...: ours too
            ours.update_cell.critic_steps.set_data(ms.Tensor(1, ms.int32))
        ours.update(list(batches))
        run_theirs(td3, args.loop, policy, batches)
        theirs = snapshot(layers)
        print(f"{args.loop} loop, {args.steps} iterations, learner_backend {backend}:")
        for net in NETS:
            mine = [p.asnumpy() for d in getattr(ours.nets, net).layers
                    for p in (d.weight, d.bias)]
            diff, where = worst(mine, theirs[net], start[net])
            failed = failed or diff > args.tolerance
            print(f"  {net:15s} rms(ours - theirs) / rms(their change) <= {diff:.1e} "
                  f"({where}){'  FAIL' if diff > args.tolerance else ''}")
    print("FAILED" if failed else f"the same steps (within {args.tolerance} of their change) on "
          f"both backends")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
