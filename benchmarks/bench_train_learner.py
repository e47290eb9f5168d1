"""The learner's speed inside the training loop: this package vs the same update in JAX.

    pip install -r requirements-bench.txt
    python benchmarks/bench_train_learner.py                     # smoke test, ~1-2 minutes
    python benchmarks/bench_train_learner.py --cycles 100 --short_steps 10 --long_steps 110 \\
        --rounds 3                                               # the measurement (~10 minutes)
    # options: --cases pendulum:64 pendulum:256 halfcheetah:256  --backends graph native

Each contender drives the real training loop of train.py (src.trainer.Trainer: `start()`, then
`cycle()` = collect 100 env steps with the host actor and exploration noise, then n_train_steps
gradient steps fed by `ReplayBuffer.sample` with grad_steps_per_call (K) batches per call).
Per round every contender runs `--cycles` cycles twice, with the same settings except
n_train_steps (`--short_steps`, then `--long_steps`), and its learner's rate is
(G_long - G_short) / (t_long - t_short): the env steps, acting, buffer writes and per-cycle
syncs are the same in both runs and cancel. The defaults of the measurement give
G_short = 1,000 and G_long = 11,000 gradient steps.

Contenders: this package's Learner (one per `--backends` value of `learner_backend`, when
default_config.yaml has that key), and the JAX + optax update of bench_learner.py (K steps per
jitted call through `lax.scan`) put in the same Trainer in place of the package's Learner, so
that the environment, buffer, sampling (K batches per call on the host), acting (a NumPy actor
refreshed after each learning phase) and syncs are the same code for both. Each contender keeps
one Trainer for all its runs: graph compilation and the buffer warm-up (`--min_buffer_size`
random steps, then one learning cycle) happen before the first timed run. Contenders alternate
within a round, in reversed order every other round. Cases are SHAPES:BATCH: pendulum is
Pendulum-v1 with 400-300 networks, halfcheetah is HalfCheetah-v5 (MuJoCo) with 256-256.
"""
import argparse
import math
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_learner import (JaxDDPG, Parser, add_backends_argument,  # noqa: E402
                           learner_backends, package_name,
                           package_overrides)
from src.errors import UserError, run_cli  # noqa: E402

# shape set -> (env_id, hidden sizes of both networks)
ENVS = {"pendulum": ("Pendulum-v1", (400, 300)),
        "halfcheetah": ("HalfCheetah-v5", (256, 256))}
ENV_STEPS_PER_CYCLE = 100


def parse_case(text: str):
    shapes, _, batch = text.partition(":")
    if shapes not in ENVS or not batch.isdigit() or int(batch) < 1:
        raise UserError(f"--cases: '{text}' is not SHAPES:BATCH with SHAPES one of "
                        f"{', '.join(ENVS)} and BATCH a positive integer (e.g. pendulum:256)")
    return shapes, int(batch)


def build_trainer(shapes: str, batch: int, backend, jax_peer: bool, args, out_dir: str):
    """A Trainer with this case's settings; with `jax_peer`, its learner is the JAX update."""
    from src.config import load_config
    from src.trainer import Trainer
    env_id, hidden = ENVS[shapes]
    argv = package_overrides(hidden, None if jax_peer else backend) + [
        "--env_id", env_id, "--buffer_batch_size", str(batch),
        "--min_buffer_size", str(args.min_buffer_size), "--start_steps", str(args.min_buffer_size),
        "--env_steps_per_cycle", str(ENV_STEPS_PER_CYCLE), "--n_train_steps",
        str(args.short_steps), "--output_dir", out_dir, "--progress_bar", "false", "--seed", "0"]
    if args.grad_steps_per_call:
        argv += ["--grad_steps_per_call", str(args.grad_steps_per_call)]
    cfg, _ = load_config(argv)
    for name in ("short_steps", "long_steps"):
        if getattr(args, name) % cfg.grad_steps_per_call:
            # A smaller last call would compile a second graph inside the timed runs.
            raise UserError(f"--{name} ({getattr(args, name)}) must be a multiple of "
                            f"grad_steps_per_call ({cfg.grad_steps_per_call})")
    trainer = Trainer(cfg)
    if jax_peer:
        low, high = trainer.spec.actor_bounds(cfg.max_action)
        trainer.learner = JaxDDPG(trainer.spec.obs_dim, trainer.spec.act_dim, low, high,
                                  cfg.policy_hidden_sizes, cfg.qf_hidden_sizes, cfg.discount,
                                  cfg.target_update_tau, cfg.policy_lr, cfg.qf_lr, cfg.seed)
    trainer.start()
    # Fill the buffer with the random start steps, then one learning cycle compiles the update.
    warm_cycles = math.ceil(args.min_buffer_size / ENV_STEPS_PER_CYCLE) + 1
    for _ in range(warm_cycles):
        trainer.cycle()
    trainer.learner.read_stats()
    return trainer


def timed_run(trainer, n_train_steps: int, cycles: int):
    """Seconds and gradient steps of `cycles` training cycles with this n_train_steps."""
    trainer.cfg.n_train_steps = n_train_steps  # cycle() reads it at every call
    start = time.perf_counter()
    for _ in range(cycles):
        trainer.cycle()
    steps = int(trainer.learner.read_stats()["GradSteps"])  # also waits for the last update
    return time.perf_counter() - start, steps


def main(argv) -> int:
    parser = Parser(description=__doc__.splitlines()[0],
                    formatter_class=argparse.RawDescriptionHelpFormatter,
                    epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--cases", nargs="+", default=["pendulum:64", "pendulum:256",
                                                       "halfcheetah:256"],
                        help="SHAPES:BATCH pairs (shape sets: pendulum, halfcheetah)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds")
    parser.add_argument("--cycles", type=int, default=5,
                        help="training cycles (100 env steps each) per timed run")
    parser.add_argument("--short_steps", type=int, default=10,
                        help="n_train_steps per cycle of the short run")
    parser.add_argument("--long_steps", type=int, default=60,
                        help="n_train_steps per cycle of the long run")
    parser.add_argument("--min_buffer_size", type=int, default=1000,
                        help="random env steps before learning (also start_steps)")
    add_backends_argument(parser)
    parser.add_argument("--grad_steps_per_call", type=int, default=0,
                        help="K gradient steps per call, both contenders (default: config's)")
    args = parser.parse_args(argv)
    cases = [parse_case(c) for c in args.cases]
    for name in ("rounds", "cycles", "short_steps"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name} must be at least 1, got {getattr(args, name)}")
    if args.long_steps <= args.short_steps:
        raise UserError(f"--long_steps ({args.long_steps}) must exceed --short_steps "
                        f"({args.short_steps})")
    if args.grad_steps_per_call < 0:
        raise UserError("--grad_steps_per_call must not be negative")
    if any(args.min_buffer_size < batch for _, batch in cases):
        raise UserError(f"--min_buffer_size ({args.min_buffer_size}) is smaller than a batch")
    backends = learner_backends(args.backends)

    import jax
    from src.runtime import init_mindspore
    init_mindspore("CPU", 0, 0)
    jax_name = f"jax {jax.__version__}"
    print(f"{args.cycles} cycles of {ENV_STEPS_PER_CYCLE} env steps per run; n_train_steps "
          f"{args.short_steps} vs {args.long_steps}; {args.rounds} rounds", flush=True)
    tmp = tempfile.mkdtemp(prefix="bench_train_learner_")
    rows = []
    try:
        for shapes, batch in cases:
            names = [package_name(b) for b in backends] + [jax_name]
            trainers = {}
            for i, name in enumerate(names):
                jax_peer = name == jax_name
                trainers[name] = build_trainer(shapes, batch, None if jax_peer else backends[i],
                                               jax_peer, args, os.path.join(tmp, str(len(rows)),
                                                                            str(i)))
            rates = {name: [] for name in names}
            for r in range(args.rounds):
                for name in (names if r % 2 == 0 else names[::-1]):
                    t1, g1 = timed_run(trainers[name], args.short_steps, args.cycles)
                    t2, g2 = timed_run(trainers[name], args.long_steps, args.cycles)
                    rate = (g2 - g1) / (t2 - t1) if t2 > t1 else float("nan")
                    rates[name].append(rate)
                    print(f"{shapes:11s} batch {batch:4d}  round {r}  {name:24s} "
                          f"G {g1:6d} in {t1:7.2f} s, G {g2:6d} in {t2:7.2f} s: "
                          f"{rate:8.1f} updates/s", flush=True)
            for trainer in trainers.values():
                trainer.close()
            med = {name: statistics.median(v) for name, v in rates.items()}
            rows.append((shapes, batch, med))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    ours = [package_name(b) for b in backends]
    print(f"\nlearner updates/s inside the training loop, (G_long - G_short) / (t_long - t_short),"
          f" medians over {args.rounds} rounds")
    print("| shape set | batch | " + " | ".join(f"{o} updates/s" for o in ours)
          + f" | {jax_name} updates/s | " + " | ".join(f"{o} / jax" for o in ours) + " |")
    print("| --- " * (3 + 2 * len(ours)) + "|")
    for shapes, batch, med in rows:
        print(f"| {shapes} | {batch} | " + " | ".join(f"{med[o]:.1f}" for o in ours)
              + f" | {med[jax_name]:.1f} | "
              + " | ".join(f"{med[o] / med[jax_name]:.2f}x" for o in ours) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main, sys.argv[1:]))
