"""The fused learner against the same step written out op by op (separate graphs + NumPy).

The references here do not use CriticLoss or ActorLoss: the TD target, the losses and their
weight decay are written out again, so that a wrong sign, form or setting in those classes
shows up as a difference.
"""
import numpy as np
import mindspore as ms
from mindspore import nn, ops
import pytest

from src.config import load_config
from src.errors import UserError
from src.learner import ActorLoss, CriticLoss, Learner, choose_backend

TAU, LR, DISCOUNT = 0.1, 0.01, 0.9


# Non-default learner settings: rewards scaled, TD targets clipped (both ways, or capped at 0),
# and two different weight decays, so that swapping them changes the result.
SETTINGS = [{},
            {"reward_scale": 3.0, "clip_return": 2.0, "qf_weight_decay": 0.3,
             "policy_weight_decay": 0.05},
            {"reward_scale": 0.5, "clip_return": 1.5, "clip_pos_returns": True,
             "qf_weight_decay": 0.02, "policy_weight_decay": 0.4}]


def _cfg(**over):
    argv = ["--policy_hidden_sizes", "[8, 6]", "--qf_hidden_sizes", "[8, 6]",
            "--target_update_tau", str(TAU), "--policy_lr", str(LR), "--qf_lr", str(LR),
            "--discount", str(DISCOUNT)]
    for k, v in over.items():
        argv += [f"--{k}", str(v)]
    return load_config(argv)[0]


def _np_mlp(params, prefix, x, n_layers, action=None):
    """ReLU MLP in NumPy from a network's parameters; `action` joins at the input."""
    if action is not None:
        x = np.concatenate([x, action], -1)
    for i in range(1, n_layers + 1):
        x = x @ params[f"{prefix}{i}.weight"].T + params[f"{prefix}{i}.bias"]
        if i < n_layers:
            x = np.maximum(x, 0.0)
    return x


def _np_actor(params, name, obs, low, high):
    out = np.tanh(_np_mlp(params, f"{name}.a_fc", obs, 3))
    return (high + low) / 2 + (high - low) / 2 * out


def _np_critic(params, name, obs, act):
    return _np_mlp(params, f"{name}.c_fc", obs, 3, act)[:, 0]


def _np_td_target(cfg, params, low, high, rew, next_obs, terminated):
    next_q = _np_critic(params, "critic_target", next_obs,
                        _np_actor(params, "actor_target", next_obs, low, high))
    y = cfg.reward_scale * rew + cfg.discount * (1 - terminated) * next_q
    return np.clip(y, -cfg.clip_return, 0.0 if cfg.clip_pos_returns else cfg.clip_return)


def _np_l2(params, name):
    return sum((v.astype(np.float64) ** 2).sum() for k, v in params.items()
               if k.startswith(name + ".") and k.endswith(".weight"))


def _params(cell):
    return {p.name: p.asnumpy().copy() for p in cell.get_parameters()}


def _batch(spec, n=16, seed=0):
    rng = np.random.default_rng(seed)
    f = np.float32
    return (rng.standard_normal((n, spec.obs_dim)).astype(f),
            rng.uniform(spec.low, spec.high, (n, spec.act_dim)).astype(f),
            rng.standard_normal(n).astype(f), rng.standard_normal((n, spec.obs_dim)).astype(f),
            (rng.random(n) < 0.3).astype(f))


class _Grad(nn.Cell):
    """Gradients of a loss cell's first output w.r.t. `params`, as its own graph."""

    def __init__(self, loss, params):
        super().__init__(auto_prefix=False)
        self.loss = loss
        self.params = ms.ParameterTuple(params)
        self.fn = ms.value_and_grad(loss, None, self.params, has_aux=True)

    def construct(self, *inputs):
        return self.fn(*inputs)


class _NumpyAdam:
    """nn.Adam's update rule (defaults beta1 0.9, beta2 0.999, eps 1e-8) in NumPy."""

    def __init__(self, lr, b1=0.9, b2=0.999, eps=1e-8):
        self.lr, self.b1, self.b2, self.eps, self.t = lr, b1, b2, eps, 0
        self.m, self.v = {}, {}

    def step(self, params, grads):
        self.t += 1
        lr_t = self.lr * np.sqrt(1 - self.b2 ** self.t) / (1 - self.b1 ** self.t)
        for name, g in grads.items():
            self.m[name] = self.b1 * self.m.get(name, 0.0) + (1 - self.b1) * g
            self.v[name] = self.b2 * self.v.get(name, 0.0) + (1 - self.b2) * g * g
            params[name] = params[name] - lr_t * self.m[name] / (np.sqrt(self.v[name]) + self.eps)


def test_parameter_names_are_unique(pendulum_spec):
    learner = Learner(pendulum_spec, _cfg())
    names = [p.name for p in learner.update_cell.get_parameters()]
    assert len(names) == len(set(names))
    for prefix in ("actor.", "actor_target.", "critic.", "critic_target.", "actor_opt.",
                   "critic_opt.", "stats."):
        assert any(n.startswith(prefix) for n in names), prefix


def test_targets_start_as_exact_copies(pendulum_spec):
    nets = Learner(pendulum_spec, _cfg()).nets
    for online, target in ((nets.actor, nets.actor_target), (nets.critic, nets.critic_target)):
        for p, t in zip(online.get_parameters(), target.get_parameters()):
            np.testing.assert_array_equal(p.asnumpy(), t.asnumpy())
            assert p is not t


def _load(cell, values):
    for p in cell.get_parameters():
        p.set_data(ms.Tensor(values[p.name]))


@pytest.mark.parametrize("over", SETTINGS, ids=["defaults", "scaled_clipped", "clip_pos"])
def test_losses_equal_a_numpy_reference(pendulum_spec, over):
    """CriticLoss and ActorLoss against the formulas in NumPy: sign and form of each term."""
    cfg = _cfg(**over)
    nets = Learner(pendulum_spec, cfg).nets
    for p in nets.get_parameters():  # far from the near-zero initial outputs
        p.set_data(ms.Tensor(np.random.default_rng(len(p.name)).uniform(-0.5, 0.5, p.shape)
                             .astype(np.float32)))
    params = {p.name: p.asnumpy().astype(np.float64) for p in nets.get_parameters()}
    low, high = pendulum_spec.low, pendulum_spec.high
    obs, act, rew, next_obs, term = _batch(pendulum_spec)
    critic_loss = CriticLoss(nets, cfg.discount, cfg.reward_scale, cfg.clip_return,
                             cfg.clip_pos_returns, cfg.qf_weight_decay)
    loss, q, y = (x.asnumpy() for x in critic_loss(*(ms.Tensor(x) for x in
                                                      (obs, act, rew, next_obs, term))))
    y_ref = _np_td_target(cfg, params, low, high, rew, next_obs, term)
    q_ref = _np_critic(params, "critic", obs, act)
    np.testing.assert_allclose(y, y_ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(q, q_ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        loss, np.mean((q_ref - y_ref) ** 2) + 0.5 * cfg.qf_weight_decay * _np_l2(params, "critic"),
        rtol=1e-4)
    actor_loss, q_pi = (x.asnumpy() for x in ActorLoss(nets, cfg.policy_weight_decay)(
        ms.Tensor(obs)))
    q_pi_ref = np.mean(_np_critic(params, "critic", obs, _np_actor(params, "actor", obs, low,
                                                                    high)))
    np.testing.assert_allclose(q_pi, q_pi_ref, rtol=1e-4)
    # Gradient ascent on Q: the loss is -Q (plus the actor's own weight decay).
    np.testing.assert_allclose(
        actor_loss, -q_pi_ref + 0.5 * cfg.policy_weight_decay * _np_l2(params, "actor"),
        rtol=1e-4)


class _SquaredTDError(nn.Cell):
    """mean (Q(s, a) - y)^2 with y given: the critic's loss without CriticLoss."""

    def __init__(self, critic):
        super().__init__(auto_prefix=False)
        self.critic = critic

    def construct(self, obs, act, y):
        q = self.critic(obs, act)
        return ops.reduce_mean(ops.square(q - y)), q


class _MinusQ(nn.Cell):
    """-mean Q(s, mu(s)): the actor's loss without ActorLoss."""

    def __init__(self, actor, critic):
        super().__init__(auto_prefix=False)
        self.actor, self.critic = actor, critic

    def construct(self, obs):
        q_pi = ops.reduce_mean(self.critic(obs, self.actor(obs)))
        return -q_pi, q_pi


@pytest.mark.parametrize("backend", ["graph", "native"])
@pytest.mark.parametrize("over", SETTINGS, ids=["defaults", "scaled_clipped", "clip_pos"])
def test_fused_steps_equal_op_by_op_steps(pendulum_spec, over, backend):
    """Two fused steps == critic step, then actor step through the updated critic, then soft
    updates, each written out separately: TD targets and weight decay in NumPy, gradients of
    the plain losses in their own graphs, Adam and soft updates in NumPy."""
    if backend == "native":
        try:
            choose_backend("native", "CPU", False)
        except UserError as exc:
            pytest.skip(str(exc))
    cfg = _cfg(learner_backend=backend, **over)
    learner = Learner(pendulum_spec, cfg)
    assert learner.backend == backend
    ref = Learner(pendulum_spec, _cfg(learner_backend="graph", **over))  # reference gradients
    names = ("actor", "actor_target", "critic", "critic_target")
    state = {k: _params(getattr(learner.nets, k)) for k in names}
    adam = {"actor": _NumpyAdam(LR), "critic": _NumpyAdam(LR)}
    decay = {"actor": cfg.policy_weight_decay, "critic": cfg.qf_weight_decay}
    critic_grad = _Grad(_SquaredTDError(ref.nets.critic), ref.nets.critic.trainable_params())
    actor_grad = _Grad(_MinusQ(ref.nets.actor, ref.nets.critic),
                       ref.nets.actor.trainable_params())
    low, high = pendulum_spec.low, pendulum_spec.high

    def step(net, grads):  # d/dw of 0.5 * decay * sum(w^2) is decay * w, on weights only
        g = {p.name: g.asnumpy() + (decay[net] * state[net][p.name]
                                     if p.name.endswith(".weight") else 0.0)
             for p, g in zip(getattr(ref.nets, net).trainable_params(), grads)}
        adam[net].step(state[net], g)
        _load(getattr(ref.nets, net), state[net])

    qs, ys = [], []
    for k in range(2):
        batch = _batch(pendulum_spec, seed=k)
        obs, act, rew, next_obs, term = batch
        for name in names:
            _load(getattr(ref.nets, name), state[name])
        flat = {n: v for name in names for n, v in state[name].items()}
        y = _np_td_target(cfg, flat, low, high, rew, next_obs, term).astype(np.float32)
        (_, q), grads = critic_grad(ms.Tensor(obs), ms.Tensor(act), ms.Tensor(y))
        qs.append(q.asnumpy())
        ys.append(y)
        step("critic", grads)
        _, grads = actor_grad(ms.Tensor(obs))
        step("actor", grads)
        for online, target in (("actor", "actor_target"), ("critic", "critic_target")):
            for (tn, tv), ov in zip(state[target].items(), state[online].values()):
                state[target][tn] = TAU * ov + (1 - TAU) * tv
        learner.update([x[None] for x in batch])

    for k in names:
        fused = _params(getattr(learner.nets, k))
        for name, value in state[k].items():
            np.testing.assert_allclose(fused[name], value, rtol=1e-4, atol=1e-6,
                                       err_msg=f"{k}: {name}")
    stats = learner.read_stats()
    assert stats["GradSteps"] == 2
    np.testing.assert_allclose(stats["AverageQ"], np.mean(qs), rtol=1e-4)
    np.testing.assert_allclose(stats["MaxQ"], np.max(qs), rtol=1e-4)
    np.testing.assert_allclose(stats["AverageY"], np.mean(ys), rtol=1e-4, atol=1e-6)
    assert learner.read_stats()["GradSteps"] == 0  # reading resets the accumulators


@pytest.mark.parametrize("decay", [0.0, 0.5])
def test_weight_decay_enters_the_losses(pendulum_spec, decay):
    cfg = _cfg()
    nets = Learner(pendulum_spec, cfg).nets
    batch = [ms.Tensor(x) for x in _batch(pendulum_spec)]
    plain = CriticLoss(nets, DISCOUNT, 1.0, float("inf"), False, 0.0)(*batch)[0].asnumpy()
    decayed = CriticLoss(nets, DISCOUNT, 1.0, float("inf"), False, decay)(*batch)[0].asnumpy()
    l2 = sum((p.asnumpy() ** 2).sum() for p in nets.critic.get_parameters()
             if p.name.endswith(".weight"))
    np.testing.assert_allclose(decayed - plain, 0.5 * decay * l2, rtol=1e-4, atol=1e-6)
    a_plain = ActorLoss(nets, 0.0)(batch[0])[0].asnumpy()
    a_decayed = ActorLoss(nets, decay)(batch[0])[0].asnumpy()
    l2a = sum((p.asnumpy() ** 2).sum() for p in nets.actor.get_parameters()
              if p.name.endswith(".weight"))
    np.testing.assert_allclose(a_decayed - a_plain, 0.5 * decay * l2a, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("backend", ["graph", "native"])
def test_steps_in_one_call_equal_steps_in_separate_calls(pendulum_spec, backend):
    cfg = _cfg(learner_backend=backend)
    one, many = Learner(pendulum_spec, cfg), Learner(pendulum_spec, cfg)
    for a, b in zip(one.update_cell.get_parameters(), many.update_cell.get_parameters()):
        b.set_data(ms.Tensor(a.asnumpy()))
    batches = [_batch(pendulum_spec, seed=s) for s in range(3)]
    for batch in batches:
        one.update([x[None] for x in batch])
    many.update([np.stack(xs) for xs in zip(*batches)])
    for a, b in zip(one.update_cell.get_parameters(), many.update_cell.get_parameters()):
        np.testing.assert_allclose(a.asnumpy(), b.asnumpy(), rtol=1e-6, atol=1e-7,
                                   err_msg=a.name)
    assert many.read_stats()["GradSteps"] == 3
    # Statistics keep accumulating after a read (regression: a reset by set_data was lost).
    many.update([np.stack(xs) for xs in zip(*batches[:2])])
    stats = many.read_stats()
    assert stats["GradSteps"] == 2 and np.isfinite(stats["AverageQFunctionLoss"])
