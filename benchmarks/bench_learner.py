"""Gradient updates per second: this package's learner vs the same update in JAX and PyTorch.

    pip install -r requirements-bench.txt
    python benchmarks/bench_learner.py [--shapes pendulum halfcheetah] [--batches 64 256]
        [--rounds 5] [--updates 200] [--backends graph native]
    python benchmarks/bench_learner.py --check    # the JAX peer does this package's update

Every contender does the same work per update: critic Adam step on the mean squared TD error
(targets from the target networks), then actor Adam step on -mean Q(s, mu(s)) through the
just-updated critic, then the soft update of both targets (tau 0.005); Adam lr 1e-3, betas
(0.9, 0.999), eps 1e-8 outside the square root; actor output tanh scaled to the action bound.
Shape sets: pendulum (3 obs, 1 action, bound 2, 400-300 networks) and halfcheetah (17 obs,
6 actions, bound 1, 256-256 networks). Batches are fed from NumPy:

- this package: K = grad_steps_per_call batches stacked [K, B, ...] per graph call, as the
  trainer feeds it; `--backends` picks `learner_backend` values (when default_config.yaml has
  that key; otherwise the one learner that exists is run);
- JAX + optax: the same K stacked batches per jitted call, the K steps in `jax.lax.scan`,
  parameters and optimizer states kept on the device between calls (donated buffers);
- PyTorch: eager, one batch per call, as Stable-Baselines3's DDPG runs (default threads).

optax.adam applies Adam's bias corrections before adding eps, nn.Adam folds them into the
step size; the work is the same, the early steps of gradient components below ~1e-6 differ.
`--check` starts the JAX update from this package's weights with nn.Adam's formula and shows
that both change every network alike on the same batches (relative differences ~1e-4).

The contenders alternate within every round (in reversed order every other round), `--updates`
each per round; a figure is the median over rounds and the ratios are of medians taken in this run.

A second table per batch times only the update's 28 matrix products (forward and backward GEMMs
of the four network passes, same shapes), back to back in one MindSpore graph and in eager
PyTorch: a floor under the full update's time that no fusing removes.
"""
import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import src.runtime  # noqa: E402,F401  (before mindspore)
import numpy as np  # noqa: E402
import yaml  # noqa: E402

from src.errors import UserError, run_cli  # noqa: E402

# name -> (obs_dim, act_dim, action bound, hidden sizes of both networks)
SHAPES = {"pendulum": (3, 1, 2.0, (400, 300)),
          "halfcheetah": (17, 6, 1.0, (256, 256))}
DISCOUNT, TAU, LR = 0.99, 0.005, 1e-3  # default_config.yaml's values, used by every peer
# A pause between contenders: worker pools may spin for a moment after their work (Eigen's,
# which XLA uses, does), and should not take the cores from the next contender's timed run.
SETTLE_S = 0.02


def cpu_model() -> str:
    """/proc/cpuinfo's model name with its family and model numbers (a VM may show only
    "AMD EPYC": the numbers tell the generation)."""
    fields = {}
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    name = fields.get("model name") or platform.processor() or platform.machine()
    if "cpu family" in fields and "model" in fields:
        name += f" (family {fields['cpu family']}, model {fields['model']})"
    return name


class Parser(argparse.ArgumentParser):
    """argparse whose errors are one `error: ...` line (exit status 2), like the package's."""

    def error(self, message):
        raise UserError(f"{message} (see --help)")


def learner_backends(requested):
    """The `learner_backend` values to run: `requested`, checked against default_config.yaml's
    choices, or the default value there."""
    with open(os.path.join(ROOT, "default_config.yaml"), encoding="utf-8") as f:
        docs = list(yaml.safe_load_all(f))
    if not requested:
        return [docs[0]["learner_backend"]]
    allowed = docs[2]["learner_backend"]
    for b in requested:
        if b not in allowed:
            raise UserError(f"--backends: unknown learner_backend '{b}' "
                            f"(choices: {', '.join(allowed)})")
    return list(dict.fromkeys(requested))


def add_backends_argument(parser, what: str = "run") -> None:
    """--backends, shared by the benchmarks that build this package's learner."""
    parser.add_argument("--backends", nargs="+", metavar="BACKEND",
                        help=f"learner_backend values of this package to {what} (e.g. graph "
                             "native); default: default_config.yaml's")


def package_name(backend) -> str:
    return "this package" if backend is None else f"this package [{backend}]"


def package_overrides(hidden, backend, grad_steps_per_call=None):
    """load_config arguments that build this package's learner for `hidden` and `backend`."""
    sizes = json.dumps(list(hidden))
    argv = ["--policy_hidden_sizes", sizes, "--qf_hidden_sizes", sizes]
    if backend is not None:
        argv += ["--learner_backend", backend]
    if grad_steps_per_call:
        argv += ["--grad_steps_per_call", str(grad_steps_per_call)]
    return argv


def mindspore_learner(shape, backend, grad_steps_per_call=None):
    from src.config import load_config
    from src.environment import EnvSpec
    from src.learner import Learner
    from src.runtime import init_mindspore
    obs_dim, act_dim, bound, hidden = shape
    init_mindspore("CPU", 0, 0)
    cfg, _ = load_config(package_overrides(hidden, backend, grad_steps_per_call))
    high = np.full(act_dim, bound, np.float32)
    learner = Learner(EnvSpec("bench", obs_dim, act_dim, -high, high, None), cfg)

    def update(batches):
        learner.update(batches)

    def sync():
        learner.read_stats()
    return update, sync, cfg.grad_steps_per_call


def _init_mlp(rng, sizes):
    """[in, out] weights and biases: U(+-1/sqrt(fan_in)) hidden layers, U(+-3e-3) final layer,
    the package's initialisation (it decides the starting point, not the speed)."""
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        lim = 3e-3 if i == len(sizes) - 2 else 1.0 / np.sqrt(n_in)
        layers.append((rng.uniform(-lim, lim, (n_in, n_out)).astype(np.float32),
                       rng.uniform(-lim, lim, n_out).astype(np.float32)))
    return layers


class JaxDDPG:
    """The DDPG update in JAX + optax, K steps per jitted call through `jax.lax.scan`.

    Parameters, targets and Adam states live in one pytree on the device; each call donates
    it and gets the updated one back, so nothing crosses to the host between calls but the
    stacked [K, B, ...] batches. `act`/`sync_actor`/`read_stats` let the trainer drive it in
    place of the package's Learner (benchmarks/bench_train_learner.py).
    """

    def __init__(self, obs_dim, act_dim, low, high, policy_hidden, qf_hidden,
                 discount=DISCOUNT, tau=TAU, policy_lr=LR, qf_lr=LR, seed=0, init=None,
                 adam=None):
        import jax
        import jax.numpy as jnp
        import optax
        self.jax = jax
        rng = np.random.default_rng(seed)
        if init is None:
            actor = _init_mlp(rng, [obs_dim, *policy_hidden, act_dim])
            critic = _init_mlp(rng, [obs_dim + act_dim, *qf_hidden, 1])
        else:  # (actor, critic) lists of ([in, out] weight, bias): to compare with another
            actor, critic = init
        low, high = np.asarray(low, np.float32), np.asarray(high, np.float32)
        self.center, self.half_range = (high + low) / 2, (high - low) / 2
        center, half_range = jnp.asarray(self.center), jnp.asarray(self.half_range)
        # optax adds eps outside the square root, as nn.Adam does (see nn_adam_formula).
        adam = adam or optax.adam
        actor_tx = adam(policy_lr, b1=0.9, b2=0.999, eps=1e-8)
        critic_tx = adam(qf_lr, b1=0.9, b2=0.999, eps=1e-8)

        def mlp(params, x):
            for w, b in params[:-1]:
                x = jax.nn.relu(x @ w + b)
            w, b = params[-1]
            return x @ w + b

        def mu(params, obs):
            return center + half_range * jnp.tanh(mlp(params, obs))

        def q(params, obs, act):
            return mlp(params, jnp.concatenate([obs, act], -1))[:, 0]

        def step(state, batch):
            actor, critic, actor_t, critic_t, actor_opt, critic_opt = state
            obs, act, rew, next_obs, terminated = batch
            y = rew + discount * (1.0 - terminated) * q(critic_t, next_obs, mu(actor_t, next_obs))
            qf_loss, grads = jax.value_and_grad(
                lambda c: jnp.mean(jnp.square(q(c, obs, act) - y)))(critic)
            updates, critic_opt = critic_tx.update(grads, critic_opt, critic)
            critic = optax.apply_updates(critic, updates)
            policy_loss, grads = jax.value_and_grad(
                lambda a: -jnp.mean(q(critic, obs, mu(a, obs))))(actor)
            updates, actor_opt = actor_tx.update(grads, actor_opt, actor)
            actor = optax.apply_updates(actor, updates)
            soft = lambda t, o: (1.0 - tau) * t + tau * o  # noqa: E731
            actor_t = jax.tree.map(soft, actor_t, actor)
            critic_t = jax.tree.map(soft, critic_t, critic)
            return (actor, critic, actor_t, critic_t, actor_opt, critic_opt), qf_loss

        def multi_step(state, batches):
            return jax.lax.scan(step, state, batches)

        self._multi_step = jax.jit(multi_step, donate_argnums=0)
        # Targets start as copies; each device_put of the NumPy arrays is a distinct buffer
        # (a donated pytree must not hold one buffer twice).
        online_actor, online_critic = jax.device_put(actor), jax.device_put(critic)
        self.state = (online_actor, online_critic, jax.device_put(actor), jax.device_put(critic),
                      actor_tx.init(online_actor), critic_tx.init(online_critic))
        self.losses = None
        self.steps = 0  # gradient steps since the last read_stats
        self.sync_actor()

    def update(self, batches) -> None:
        """K steps, one per slice of stacked (obs, act, rew, next_obs, terminated) arrays."""
        self.state, self.losses = self._multi_step(self.state, tuple(batches))
        self.steps += len(batches[0])

    def sync(self) -> None:
        self.jax.block_until_ready(self.state)

    def sync_actor(self) -> None:
        # np.array copies: the device buffers are donated to the next call.
        self.host_layers = [(np.array(w), np.array(b)) for w, b in self.state[0]]

    def act(self, obs: np.ndarray) -> np.ndarray:
        x = np.asarray(obs, np.float32)
        for w, b in self.host_layers[:-1]:
            x = np.maximum(x @ w + b, 0.0)
        w, b = self.host_layers[-1]
        return self.center + self.half_range * np.tanh(x @ w + b)

    def read_stats(self) -> dict:
        self.sync()
        steps, self.steps = self.steps, 0
        return {"GradSteps": steps}


def nn_adam_formula(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    """MindSpore nn.Adam's step as an optax transformation, for --check only:
    lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps). optax.adam adds eps after the bias
    corrections instead, so while t << 1 / (1 - b2) its eps is in effect up to 30x smaller;
    gradient components below ~1e-6 then move differently. The work per step is the same."""
    import jax
    import jax.numpy as jnp
    import optax

    def init(params):
        zeros = jax.tree.map(jnp.zeros_like, params)
        return zeros, jax.tree.map(jnp.zeros_like, params), jnp.zeros((), jnp.float32)

    def update(grads, state, params=None):
        m, v, t = state
        t = t + 1
        m = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, m, grads)
        v = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, v, grads)
        lr_t = learning_rate * jnp.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        return jax.tree.map(lambda m, v: -lr_t * m / (jnp.sqrt(v) + eps), m, v), (m, v, t)
    return optax.GradientTransformation(init, update)


def check(shape_name: str, backend, calls: int = 2) -> bool:
    """Same start, same batches: this package's learner and the JAX update (with nn.Adam's
    formula) must change every network alike. Prints ||d_jax - d_ms|| / ||d_ms|| per network,
    d being the change of its parameters over `calls` calls of K steps."""
    from src.config import load_config
    from src.environment import EnvSpec
    from src.learner import Learner
    from src.runtime import init_mindspore
    obs_dim, act_dim, bound, hidden = SHAPES[shape_name]
    init_mindspore("CPU", 0, 0)
    cfg, _ = load_config(package_overrides(hidden, backend))
    high = np.full(act_dim, bound, np.float32)
    ours = Learner(EnvSpec("bench", obs_dim, act_dim, -high, high, None), cfg)
    nets = ("actor", "critic", "actor_target", "critic_target")
    if not all(hasattr(getattr(getattr(ours, "nets", None), n, None), "layers") for n in nets):
        raise UserError("--check reads learner.nets.<net>.layers (Dense cells); this "
                        "learner backend has no such layout")

    def layers(name):  # [in, out] weights, as JaxDDPG keeps them
        return [(d.weight.asnumpy().T.copy(), d.bias.asnumpy().copy())
                for d in getattr(ours.nets, name).layers]
    start = {n: layers(n) for n in nets}
    peer = JaxDDPG(obs_dim, act_dim, -high, high, hidden, hidden, cfg.discount,
                   cfg.target_update_tau, cfg.policy_lr, cfg.qf_lr,
                   init=(start["actor"], start["critic"]), adam=nn_adam_formula)
    feeds = stacked(random_batches(np.random.default_rng(0), 64, obs_dim, act_dim, bound),
                    cfg.grad_steps_per_call)
    for i in range(calls):
        ours.update(feeds[i])
        peer.update(feeds[i])
    peer.sync()

    def flat(layer_list):
        return np.concatenate([np.ravel(np.asarray(x)) for wb in layer_list for x in wb])
    ok = True
    for name, peer_layers in zip(nets, peer.state[:4]):
        d_ours = flat(layers(name)) - flat(start[name])
        d_peer = flat(peer_layers) - flat(start[name])
        rel = np.linalg.norm(d_peer - d_ours) / np.linalg.norm(d_ours)
        ok &= bool(rel < 1e-2)  # float32 rounding of the (1 - tau) * target sums: ~1e-3
        print(f"check {shape_name:11s} {name:13s} relative difference of the change after "
              f"{calls * cfg.grad_steps_per_call} steps: {rel:.1e}")
    return ok


def jax_learner(shape, k):
    obs_dim, act_dim, bound, hidden = shape
    high = np.full(act_dim, bound, np.float32)
    learner = JaxDDPG(obs_dim, act_dim, -high, high, hidden, hidden)
    return learner.update, learner.sync, k


def torch_learner(shape, gamma=DISCOUNT, tau=TAU, lr=LR):
    import torch
    from torch import nn
    obs_dim, act_dim, bound, (h1, h2) = shape

    class Actor(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(obs_dim, h1), nn.ReLU(), nn.Linear(h1, h2),
                                     nn.ReLU(), nn.Linear(h2, act_dim), nn.Tanh())
            self.scale = torch.full((act_dim,), bound)

        def forward(self, s):
            return self.net(s) * self.scale

    class Critic(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(obs_dim + act_dim, h1), nn.ReLU(),
                                     nn.Linear(h1, h2), nn.ReLU(), nn.Linear(h2, 1))

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
    """Median updates/s of each contender over `rounds` rounds; within a round the contenders
    run one after the other, `updates` each (rounded down to whole calls of k steps), in
    reversed order every other round so that none always follows the same one."""
    for name, (update, sync, k) in contenders.items():  # warm-up and compile
        for b in feeds[name]:
            update(b)
        sync()
    rates = {name: [] for name in contenders}
    for r in range(rounds):
        names = list(contenders) if r % 2 == 0 else list(contenders)[::-1]
        for name in names:
            update, sync, k = contenders[name]
            calls = max(1, updates // k)
            time.sleep(SETTLE_S)
            start = time.perf_counter()
            for i in range(calls):
                update(feeds[name][i % len(feeds[name])])
            sync()
            rates[name].append(calls * k / (time.perf_counter() - start))
    return {name: statistics.median(r) for name, r in rates.items()}, rates


def report(label: str, what: str, med, rates, ratios) -> None:
    for name in med:
        print(f"{label}  {what:13s} {name:30s} {med[name]:8.1f} updates/s "
              f"(rounds: {', '.join(f'{x:.0f}' for x in rates[name])})")
    for num, den in ratios:
        print(f"{label}  {what:13s} ratio {num} / {den}: {med[num] / med[den]:.2f}x")
    sys.stdout.flush()


def random_batches(rng, batch_size, obs_dim, act_dim, bound, n=16):
    return [(rng.standard_normal((batch_size, obs_dim)).astype(np.float32),
             rng.uniform(-bound, bound, (batch_size, act_dim)).astype(np.float32),
             rng.standard_normal(batch_size).astype(np.float32),
             rng.standard_normal((batch_size, obs_dim)).astype(np.float32),
             (rng.random(batch_size) < 0.01).astype(np.float32)) for _ in range(n)]


def stacked(batches, k):
    """What one call of a K-step learner takes: k batches stacked as [k, B, ...]."""
    return [tuple(np.stack(xs) for xs in zip(*(batches[(j + i) % len(batches)]
                                              for i in range(k))))
            for j in range(len(batches))]


def main(argv) -> int:
    parser = Parser(description=__doc__.splitlines()[0],
                    formatter_class=argparse.RawDescriptionHelpFormatter,
                    epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--shapes", nargs="+", choices=sorted(SHAPES),
                        default=["pendulum", "halfcheetah"], help="shape sets to run")
    parser.add_argument("--batches", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds")
    parser.add_argument("--updates", type=int, default=200,
                        help="gradient updates per contender per round")
    add_backends_argument(parser)
    parser.add_argument("--grad_steps_per_call", type=int, default=0,
                        help="K steps per call for this package and JAX (default: the config's)")
    parser.add_argument("--no_gemms", action="store_true", help="skip the GEMM-only table")
    parser.add_argument("--check", action="store_true",
                        help="only check that the JAX update changes the networks as this "
                             "package's learner does (same start and batches, nn.Adam's "
                             "formula), for each shape set; exit 1 if not")
    args = parser.parse_args(argv)
    for name in ("rounds", "updates"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name} must be at least 1, got {getattr(args, name)}")
    if min(args.batches) < 1 or args.grad_steps_per_call < 0:
        raise UserError("--batches must be positive and --grad_steps_per_call not negative")
    backends = learner_backends(args.backends)
    if args.check:
        ok = all([check(name, b) for b in backends for name in args.shapes])
        print("check " + ("passed" if ok else "FAILED"))
        return 0 if ok else 1
    import jax
    import optax
    import torch
    print(f"torch threads: {torch.get_num_threads()}; jax {jax.__version__} "
          f"({jax.devices()[0].platform}), optax {optax.__version__}; "
          f"MS_DEV_HOST_BLOCKING_RUN={os.environ.get('MS_DEV_HOST_BLOCKING_RUN')}", flush=True)
    jax_name, torch_name = f"jax {jax.__version__} scan", f"pytorch {torch.__version__} eager"
    rng = np.random.default_rng(0)
    summary = []
    for shape_name in args.shapes:
        shape = SHAPES[shape_name]
        obs_dim, act_dim, bound, hidden = shape
        contenders = {package_name(b): mindspore_learner(shape, b, args.grad_steps_per_call)
                      for b in backends}
        k = next(iter(contenders.values()))[2]
        contenders[jax_name] = jax_learner(shape, k)
        contenders[torch_name] = torch_learner(shape)
        ours = [package_name(b) for b in backends]
        ratios = [(o, peer) for o in ours for peer in (jax_name, torch_name)]
        for batch_size in args.batches:
            label = f"{shape_name:11s} batch {batch_size:4d}"
            batches = random_batches(rng, batch_size, obs_dim, act_dim, bound)
            feeds = {name: batches if name == torch_name else stacked(batches, kk)
                     for name, (_, _, kk) in contenders.items()}
            med, rates = race(contenders, feeds, args.rounds, args.updates)
            report(label, "full update", med, rates, ratios)
            summary.append((shape_name, batch_size, med))
            if args.no_gemms:
                continue
            shapes = update_gemms(batch_size, obs_dim, act_dim, hidden)
            gemms = {"mindspore (one graph)": mindspore_gemms(shapes, k),
                     f"pytorch {torch.__version__} mm": torch_gemms(shapes)}
            report(label, f"{len(shapes)} GEMMs only",
                   *race(gemms, {name: [None] for name in gemms}, args.rounds, args.updates),
                   [tuple(gemms)])
    names = list(summary[0][2])
    print("\n| shapes | batch | " + " | ".join(f"{n} (updates/s)" for n in names) + " | "
          + " | ".join(f"{o} / {p.split()[0]}" for o, p in ratios) + " |")
    print("| --- " * (2 + len(names) + len(ratios)) + "|")
    for shape_name, batch_size, med in summary:
        print(f"| {shape_name} | {batch_size} | "
              + " | ".join(f"{med[n]:.1f}" for n in names) + " | "
              + " | ".join(f"{med[o] / med[p]:.2f}x" for o, p in ratios) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main, sys.argv[1:]))
