"""The DDPG learner: four networks, two TrainOneStep cells, soft target updates, one graph.

`DDPGUpdate` is a single MindSpore Cell whose construct performs a whole gradient step
(critic Adam step on the TD loss, actor Adam step on -Q, soft update of both targets) and
accumulates training statistics in device-side Parameters, so the host never waits for a
gradient step's results; `Learner.read_stats` fetches them once per epoch.

Every parameter has a unique name (`actor.*`, `actor_target.*`, `critic.*`, `critic_target.*`,
`actor_opt.*`, `critic_opt.*`, `stats.*`), so the whole learner lives in one graph and one
checkpoint.

TD3's three changes are switches of the same step (all off by default, which is exactly DDPG):
`twin_critics` adds `critic2.*` and `critic2_target.*` (trained by `critic_opt` together with
the first critic) and takes the TD target from the smaller target critic; `policy_delay` runs
the actor step and the soft updates once every `policy_delay` critic steps, counted in
`schedule.critic_steps`; `target_policy_noise` smooths the target action with clipped noise
that the host draws and feeds with the batch. Both backends implement all three.

Two backends run the same step on the same Parameters (`learner_backend`): `graph` is
DDPGUpdate in a MindSpore graph, on any device; `native` is one MindSpore Custom op per K steps
(src/csrc/ddpg_update.cc, CPU only), about 190 kernels per update fewer. Training states,
checkpoints and statistics are the same for both, so a run may resume on either. The native op
checks every input against its layout (LAYOUT_VERSION) and `Learner.update` checks that it
advanced the optimizer's step count: either failure is a UserError, never a silent run.
"""
import ctypes
import functools
import threading
from typing import Dict, Sequence, Tuple

import numpy as np
import mindspore as ms
from mindspore import nn, ops, Parameter, ParameterTuple

from src.environment import EnvSpec
from src.errors import UserError
from src.losses import (clip_bounds, l2_penalty, smoothed_target_action, soft_update,
                        td_target)
from src.native import ENTRY, LAYOUT_VERSION, NativeUnavailable, library_path, usable_threads
from src.networks import FINAL_LAYER_INIT, ActorNet, CriticNet, HostActor

# Optimizer scalars that nn.Adam names identically in every instance.
_OPTIMIZER_SCALARS = ("global_step", "learning_rate", "beta1_power", "beta2_power")
# Learners' graph calls, one at a time in the process: measured with MindSpore 2.10, two Python
# threads running graphs at once deadlock (both wait for the GIL under one thread state, graph
# backend and native alike), and two first calls compiling at once fail.
_GRAPH_CALLS = threading.Lock()


class DDPGNetworks(nn.Cell):
    """Holds actor, critic and their targets (with `twin`, a second critic and its target too);
    the attribute names prefix the parameter names."""

    def __init__(self, spec: EnvSpec, policy_hidden_sizes: Sequence[int],
                 qf_hidden_sizes: Sequence[int], qf_action_layer: int, low, high,
                 twin: bool = False, final_init: float = FINAL_LAYER_INIT):
        super().__init__()
        self.actor = ActorNet(spec.obs_dim, spec.act_dim, policy_hidden_sizes, low, high,
                              final_init)
        self.actor_target = ActorNet(spec.obs_dim, spec.act_dim, policy_hidden_sizes, low, high,
                                     final_init)
        self.critic = CriticNet(spec.obs_dim, spec.act_dim, qf_hidden_sizes, qf_action_layer,
                                final_init)
        self.critic_target = CriticNet(spec.obs_dim, spec.act_dim, qf_hidden_sizes,
                                       qf_action_layer, final_init)
        # Targets start as exact copies of the online networks.
        hard_copy(self.actor, self.actor_target)
        hard_copy(self.critic, self.critic_target)
        self.twin = twin
        if twin:  # made last, so the first four networks start as they do without it
            self.critic2 = CriticNet(spec.obs_dim, spec.act_dim, qf_hidden_sizes,
                                     qf_action_layer, final_init)
            self.critic2_target = CriticNet(spec.obs_dim, spec.act_dim, qf_hidden_sizes,
                                            qf_action_layer, final_init)
            hard_copy(self.critic2, self.critic2_target)

    def critics(self) -> Tuple[nn.Cell, ...]:
        """The online critics: critic, and critic2 with twin critics."""
        return (self.critic, self.critic2) if self.twin else (self.critic,)


def hard_copy(source: nn.Cell, target: nn.Cell) -> None:
    for s, t in zip(source.get_parameters(), target.get_parameters()):
        t.set_data(ms.Tensor(s.asnumpy().copy()))


def _weights(cell: nn.Cell) -> Tuple[Parameter, ...]:
    return tuple(p for p in cell.trainable_params() if p.name.endswith(".weight"))


class CriticLoss(nn.Cell):
    """Mean squared TD error (+ L2 on the critic's weights); aux outputs Q(s, a) and y.

    With twin critics, y takes the smaller of the two target critics and the loss is the sum of
    both critics' losses (their gradients do not mix); Q(s, a) is the first critic's. With
    `target_noise` > 0 the target action is smoothed with the standard normal `noise` input.
    """

    def __init__(self, nets: DDPGNetworks, discount: float, reward_scale: float,
                 clip_return: float, clip_pos_returns: bool, weight_decay: float,
                 target_noise: float = 0.0, noise_clip: float = 0.5):
        super().__init__(auto_prefix=False)
        self.nets = nets
        self.discount = discount
        self.reward_scale = reward_scale
        self.clip_low, self.clip_high = clip_bounds(clip_return, clip_pos_returns)
        self.weight_decay = weight_decay
        decayed = []
        for critic in nets.critics():
            decayed += _weights(critic)
        self.decayed = ParameterTuple(decayed)
        self.target_noise, self.noise_clip = target_noise, noise_clip
        # The actor's output range: what a smoothed target action is clipped to.
        center, half = nets.actor_target.center.asnumpy(), nets.actor_target.half_range.asnumpy()
        self.half_range = ms.Tensor(half)
        self.low, self.high = ms.Tensor(center - half), ms.Tensor(center + half)

    def construct(self, obs, act, rew, next_obs, terminated, *noise):
        next_act = self.nets.actor_target(next_obs)
        if self.target_noise > 0:
            next_act = smoothed_target_action(next_act, noise[0], self.target_noise,
                                              self.noise_clip, self.low, self.high,
                                              self.half_range)
        next_q = self.nets.critic_target(next_obs, next_act)
        if self.nets.twin:
            next_q = ops.minimum(next_q, self.nets.critic2_target(next_obs, next_act))
        y = ops.stop_gradient(td_target(rew, terminated, next_q, self.discount,
                                        self.reward_scale, self.clip_low, self.clip_high))
        q = self.nets.critic(obs, act)
        loss = ops.reduce_mean(ops.square(q - y))
        if self.nets.twin:
            loss = loss + ops.reduce_mean(ops.square(self.nets.critic2(obs, act) - y))
        if self.weight_decay > 0:
            loss = loss + l2_penalty(self.decayed, self.weight_decay)
        return loss, q, y


class ActorLoss(nn.Cell):
    """-mean Q(s, mu(s)) (+ L2 on the actor's weights); aux output mean Q(s, mu(s))."""

    def __init__(self, nets: DDPGNetworks, weight_decay: float):
        super().__init__(auto_prefix=False)
        self.nets = nets
        self.weight_decay = weight_decay
        self.decayed = ParameterTuple(_weights(nets.actor))

    def construct(self, obs):
        q_pi = ops.reduce_mean(self.nets.critic(obs, self.nets.actor(obs)))
        loss = -q_pi
        if self.weight_decay > 0:
            loss = loss + l2_penalty(self.decayed, self.weight_decay)
        return loss, q_pi


class TrainOneStep(nn.Cell):
    """One optimizer step on `loss_net`'s first output; returns all of loss_net's outputs.

    Gradients are taken only with respect to the optimizer's parameters, so the critic's
    weights stay fixed in the actor step and vice versa. Under data-parallel training (msrun)
    the gradients are averaged over the workers before the step, so every worker applies the
    same update and the networks stay identical.
    """

    def __init__(self, loss_net: nn.Cell, optimizer: nn.Optimizer):
        super().__init__(auto_prefix=False)
        self.loss_net = loss_net
        self.optimizer = optimizer
        self.weights = optimizer.parameters
        self.grad_fn = ms.value_and_grad(loss_net, None, self.weights, has_aux=True)
        self.reduce_grads = ms.context.get_auto_parallel_context("parallel_mode") == \
            ms.ParallelMode.DATA_PARALLEL
        if self.reduce_grads:
            from mindspore.communication import get_group_size
            self.grad_reducer = nn.DistributedGradReducer(self.weights, mean=True,
                                                          degree=get_group_size())

    def construct(self, *inputs):
        outputs, grads = self.grad_fn(*inputs)
        if self.reduce_grads:
            grads = self.grad_reducer(grads)
        self.optimizer(grads)
        return outputs


class SoftUpdate(nn.Cell):
    """target <- tau * online + (1 - tau) * target for every parameter pair."""

    def __init__(self, online: nn.Cell, target: nn.Cell, tau: float):
        super().__init__(auto_prefix=False)
        self.online = ParameterTuple(online.get_parameters())
        self.target = ParameterTuple(target.get_parameters())
        self.tau = tau

    def construct(self):
        for i in range(len(self.online)):
            ops.assign(self.target[i], soft_update(self.target[i], self.online[i], self.tau))
        return self.tau


def _adam(params, lr: float, prefix: str) -> nn.Adam:
    opt = nn.Adam(params, learning_rate=lr)
    for p in opt.get_parameters():
        if p.name in _OPTIMIZER_SCALARS:
            p.name = f"{prefix}.{p.name}"
    return opt


# Layout of the device-side statistics accumulator `stats.sum`.
STAT_FIELDS = ("q", "y", "qf_loss", "policy_loss", "steps")


class DDPGUpdate(nn.Cell):
    """A whole DDPG gradient step in one graph: critic step, actor step, the soft updates.

    With policy_delay d > 1, the actor step and the soft updates run on every d-th critic step,
    counted in the Parameter `schedule.critic_steps` so the count survives a resume and does
    not depend on how many steps one call takes; `stats.actor_steps` counts the actor steps
    for the policy loss statistic.
    """

    def __init__(self, nets: DDPGNetworks, cfg):
        super().__init__(auto_prefix=False)
        self.nets = nets
        critic_loss = CriticLoss(nets, cfg.discount, cfg.reward_scale, cfg.clip_return,
                                 cfg.clip_pos_returns, cfg.qf_weight_decay,
                                 cfg.target_policy_noise, cfg.target_noise_clip)
        actor_loss = ActorLoss(nets, cfg.policy_weight_decay)
        critic_params = []
        for critic in nets.critics():
            critic_params += critic.trainable_params()
        self.critic_opt = _adam(critic_params, cfg.qf_lr, "critic_opt")
        self.actor_opt = _adam(nets.actor.trainable_params(), cfg.policy_lr, "actor_opt")
        self.critic_step = TrainOneStep(critic_loss, self.critic_opt)
        self.actor_step = TrainOneStep(actor_loss, self.actor_opt)
        self.critic_soft_update = SoftUpdate(nets.critic, nets.critic_target,
                                             cfg.target_update_tau)
        if nets.twin:
            self.critic2_soft_update = SoftUpdate(nets.critic2, nets.critic2_target,
                                                  cfg.target_update_tau)
        self.actor_soft_update = SoftUpdate(nets.actor, nets.actor_target, cfg.target_update_tau)
        self.stat_sum = Parameter(ms.Tensor(np.zeros(len(STAT_FIELDS), np.float32)),
                                  name="stats.sum", requires_grad=False)
        self.stat_max_q = Parameter(ms.Tensor(np.array(-np.inf, np.float32)),
                                    name="stats.max_q", requires_grad=False)
        self.policy_delay = cfg.policy_delay
        if self.policy_delay > 1:  # absent otherwise: DDPG's learner state stays as it was
            self.critic_steps = Parameter(ms.Tensor(0, ms.int32), name="schedule.critic_steps",
                                          requires_grad=False)
            self.stat_actor_steps = Parameter(ms.Tensor(np.array(0.0, np.float32)),
                                              name="stats.actor_steps", requires_grad=False)

    def construct(self, obs, act, rew, next_obs, terminated, *noise):
        qf_loss, q, y = self.critic_step(obs, act, rew, next_obs, terminated, *noise)
        if self.policy_delay > 1:
            ops.assign_add(self.critic_steps, ops.ones((), ms.int32))
            policy_loss = ops.zeros((), ms.float32)
            if self.critic_steps % self.policy_delay == 0:
                policy_loss = self._actor_step_and_soft_updates(obs)
                ops.assign_add(self.stat_actor_steps, ops.ones((), ms.float32))
        else:
            policy_loss = self._actor_step_and_soft_updates(obs)
        step_stats = ops.stack((ops.reduce_mean(q), ops.reduce_mean(y), qf_loss, policy_loss,
                                ops.ones((), ms.float32)))
        ops.assign_add(self.stat_sum, step_stats)
        ops.assign(self.stat_max_q, ops.maximum(self.stat_max_q, ops.reduce_max(q)))
        return qf_loss

    def _actor_step_and_soft_updates(self, obs):
        policy_loss, _ = self.actor_step(obs)
        self.critic_soft_update()
        if self.nets.twin:
            self.critic2_soft_update()
        self.actor_soft_update()
        return policy_loss


class ReadAndResetStats(nn.Cell):
    """Returns the accumulated statistics and zeroes them, as a graph.

    Resetting with Parameter.set_data instead is unsafe here: measured with MindSpore 2.10, a
    compiled graph with a while loop kept writing to the old buffers after set_data.
    """

    def __init__(self, step: DDPGUpdate):
        super().__init__(auto_prefix=False)
        self.step = step

    def construct(self):
        sums = self.step.stat_sum * 1.0
        max_q = self.step.stat_max_q * 1.0
        ops.assign(self.step.stat_sum, ops.zeros_like(sums))
        ops.assign(self.step.stat_max_q, ops.fill(ms.float32, (), -np.inf))
        if self.step.policy_delay > 1:
            actor_steps = self.step.stat_actor_steps * 1.0
            ops.assign(self.step.stat_actor_steps, ops.zeros_like(actor_steps))
        else:  # an actor step with every critic step
            actor_steps = sums[STAT_FIELDS.index("steps")]
        return sums, max_q, actor_steps


class MultiStepUpdate(nn.Cell):
    """K gradient steps in one graph call: DDPGUpdate on each slice of stacked [K, B, ...]
    batches, in a graph-side while loop (one host round trip for K steps, one compilation
    whatever K is)."""

    def __init__(self, step: DDPGUpdate):
        super().__init__(auto_prefix=False)
        self.step = step

    def construct(self, obs, act, rew, next_obs, terminated, *noise):
        i = ms.Tensor(0, ms.int32)
        loss = ops.zeros((), ms.float32)
        while i < obs.shape[0]:
            loss = self.step(obs[i], act[i], rew[i], next_obs[i], terminated[i],
                             *[x[i] for x in noise])
            i = i + 1
        return loss


@functools.lru_cache(maxsize=None)
def native_api(library: str) -> ctypes.CDLL:
    """The kernel library's C functions. ctypes.CDLL on the path MindSpore's op loads gives the
    same loaded instance: its error message, its thread pool."""
    lib = ctypes.CDLL(library)
    lib.DDPGUpdateLastError.restype = ctypes.c_char_p
    lib.DDPGUpdateSetThreads.argtypes = [ctypes.c_int]
    lib.DDPGUpdateSplitCount.restype = ctypes.c_int64
    lib.DDPGUpdatePoolStats.argtypes = [ctypes.POINTER(ctypes.c_int64), ctypes.c_int]
    lib.DDPGUpdatePoolStats.restype = ctypes.c_int
    return lib


class NativeMultiStepUpdate(nn.Cell):
    """MultiStepUpdate's K steps as one Custom op (src/csrc/ddpg_update.cc) that updates
    DDPGUpdate's Parameters in place: networks, targets, Adam states, counters, statistics.

    Call `checked_update` rather than the cell: it turns a failed launch into the kernel's own
    one-line reason, and notices an op that did not write the Parameters at all.
    """

    def __init__(self, step: DDPGUpdate, cfg, library: str):
        super().__init__(auto_prefix=False)
        self.library = library
        nets = step.nets
        params = []
        twins = (nets.critic2, nets.critic2_target) if nets.twin else ()
        for net in (nets.actor, nets.actor_target, nets.critic, nets.critic_target) + twins:
            params += net.trainable_params()
        for opt in (step.actor_opt, step.critic_opt):
            params += list(opt.moment1) + list(opt.moment2)
            params += [opt.beta1_power, opt.beta2_power, opt.global_step, opt.learning_rate]
        params += [step.stat_sum, step.stat_max_q]
        if step.policy_delay > 1:
            params += [step.critic_steps, step.stat_actor_steps]
        self.params = ParameterTuple(params)
        opt = step.critic_opt
        clip_low, clip_high = clip_bounds(cfg.clip_return, cfg.clip_pos_returns)
        # The layout version, then the kernel's `Hyper` struct, in order.
        hyper = [float(LAYOUT_VERSION), cfg.discount, cfg.reward_scale, clip_low, clip_high,
                 cfg.target_update_tau, cfg.qf_weight_decay, cfg.policy_weight_decay,
                 float(opt.beta1.asnumpy()), float(opt.beta2.asnumpy()),
                 float(opt.eps.asnumpy()), cfg.qf_action_layer,
                 nets.actor.n_layers, len(nets.critic.layers), 1.0 - cfg.target_update_tau,
                 float(nets.twin), cfg.policy_delay, cfg.target_policy_noise,
                 cfg.target_noise_clip]
        hyper += list(nets.actor.center.asnumpy()) + list(nets.actor.half_range.asnumpy())
        self.hyper = ms.Tensor(np.array(hyper, np.float32))
        self.op = ops.Custom(f"{library}:{ENTRY}", out_shape=(1,), out_dtype=ms.float32,
                             func_type="aot")

    def construct(self, obs, act, rew, next_obs, terminated, *noise):
        return self.op(obs, act, rew, next_obs, terminated, self.hyper, *noise, *self.params)

    def checked_update(self, batches: Sequence[ms.Tensor], counter: Parameter) -> None:
        """Runs the op on [K, B, ...] `batches` and waits for it. A layout the kernel refuses
        raises a UserError with its reason; so does an op that left `counter`, the learner's
        own critic_opt.global_step (every step is a critic step), where it was: MindSpore no
        longer passing Parameters in place would have the op train copies."""
        before = int(counter.asnumpy().reshape(-1)[0])
        try:
            # The op writes Parameters that MindSpore does not know it writes: wait for it here,
            # so that nothing (host actor, checkpoints) reads them early, whatever the runtime's
            # launch mode.
            self(*batches).asnumpy()
        except RuntimeError as exc:
            # MindSpore's message only gives the return value; the kernel kept the reason.
            reason = native_api(self.library).DDPGUpdateLastError().decode()
            if not reason:
                raise
            raise UserError(reason) from exc
        after = int(counter.asnumpy().reshape(-1)[0])
        steps = int(batches[0].shape[0])
        if after != before + steps:
            raise UserError(f"native kernel: {counter.name} went from {before} to {after} in a "
                            f"call of {steps} steps: the op did not update the learner's "
                            f"Parameters in place (this MindSpore passes copies to Custom ops); "
                            f"use --learner_backend graph")

    def set_threads(self, n: int) -> int:
        """Sets the kernel's thread pool to n threads (shared by the process); returns the
        number in effect."""
        return native_api(self.library).DDPGUpdateSetThreads(n)


BACKENDS = ("auto", "native", "graph")


def choose_backend(requested: str, device_target: str,
                   distributed: bool) -> Tuple[str, str, str]:
    """(backend, library path or "", why auto did not take native or "") for
    `learner_backend`; an explicit native that cannot run is a UserError saying why.

    auto takes native where it can run (CPU, one worker, a compiler) and graph elsewhere.
    Data-parallel runs need graph: their gradients are averaged between the backward pass and
    the optimizer step, inside the graph. Where native should run but its kernel does not build
    or load (compiler missing, failing or hung, a library that will not load), the note starts
    with `warning:`, for the caller to print on a line of its own.
    """
    if requested == "graph":
        return "graph", "", ""
    reason, unexpected = "", False
    if device_target != "CPU":
        reason = f"it runs on CPU only, not on {device_target}"
    elif distributed:
        reason = "data-parallel (msrun) runs average gradients inside the graph backend"
    else:
        try:
            return "native", library_path(), ""
        except NativeUnavailable as exc:
            reason, unexpected = str(exc), True
    if requested == "native":
        raise UserError(f"learner_backend native is not available: {reason} "
                        f"(use --learner_backend graph)")
    if unexpected:
        return "graph", "", f"warning: native learner not used, graph instead: {reason}"
    return "graph", "", f"native not used: {reason}"


class Learner:
    """Host-side handle: builds the graph, feeds batches, reads statistics, acts."""

    def __init__(self, spec: EnvSpec, cfg):
        low, high = spec.actor_bounds(cfg.max_action)
        self.nets = DDPGNetworks(spec, cfg.policy_hidden_sizes, cfg.qf_hidden_sizes,
                                 cfg.qf_action_layer, low, high, cfg.twin_critics,
                                 cfg.final_layer_init)
        self.update_cell = DDPGUpdate(self.nets, cfg)
        self.backend, library, self.backend_note = choose_backend(
            cfg.learner_backend, cfg.device_target, cfg.distributed)
        if self.backend == "native":
            self.multi_step = NativeMultiStepUpdate(self.update_cell, cfg, library)
            self.multi_step.set_threads(usable_threads())
        else:
            self.multi_step = MultiStepUpdate(self.update_cell)
        self.read_and_reset_stats = ReadAndResetStats(self.update_cell)
        self.host_actor = HostActor(self.nets.actor)

    def update(self, batches: Sequence[np.ndarray]) -> None:
        """K gradient steps, one per slice of stacked (obs, act, rew, next_obs, terminated)
        float32 arrays of shape [K, B, ...], in one graph call; with target_policy_noise, a
        sixth array of standard normal noise [K, B, act_dim] follows
        (src/exploration.py's `target_smoothing_noise`).

        Call `sync_actor` after a phase of updates, before acting again.
        """
        inputs = [ms.Tensor(x) for x in batches]
        with _GRAPH_CALLS:
            if self.backend == "native":
                self.multi_step.checked_update(inputs, self.update_cell.critic_opt.global_step)
            else:
                self.multi_step(*inputs)

    def sync_actor(self) -> None:
        """Refreshes the host copy of the actor used by `act`."""
        self.host_actor.sync()

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Deterministic actions mu(obs) for a [n, obs_dim] batch of observations (on the host)."""
        return self.host_actor(obs)

    def load_state(self, params: Dict[str, np.ndarray], where: str) -> None:
        """Loads every learner parameter (networks, optimizer states, statistics).

        Call it before the first update: measured with MindSpore 2.10, a compiled graph with a
        while loop keeps using the old buffers of parameters replaced afterwards.
        """
        cell_params = {p.name: p for p in self.update_cell.get_parameters()}
        if set(cell_params) != set(params):
            missing = sorted(set(cell_params) - set(params))
            raise UserError(f"cannot resume {where}: its learner does not match these settings "
                            f"({len(missing)} parameters missing, e.g. {missing[:1]})")
        for name, p in cell_params.items():
            if tuple(params[name].shape) != tuple(p.shape):
                raise UserError(f"cannot resume {where}: parameter {name} has shape "
                                f"{tuple(params[name].shape)}, these settings need "
                                f"{tuple(p.shape)}")
            p.set_data(ms.Tensor(params[name]))
        self.sync_actor()

    def checksum(self) -> str:
        """SHA-256 of every network parameter: equal on all workers of a data-parallel run."""
        import hashlib
        digest = hashlib.sha256()
        for p in self.nets.get_parameters():
            digest.update(p.name.encode())
            digest.update(p.asnumpy().tobytes())
        return digest.hexdigest()[:16]

    def first_non_finite_parameter(self) -> str:
        """The name of the first network parameter holding NaN or Inf, or ""."""
        for p in self.nets.get_parameters():
            if not np.isfinite(p.asnumpy()).all():
                return p.name
        return ""

    def read_stats(self) -> Dict[str, float]:
        """Returns the statistics accumulated since the last call, and resets them."""
        with _GRAPH_CALLS:
            sums, max_q, actor_steps = self.read_and_reset_stats()
            sums, max_q = sums.asnumpy().astype(np.float64), float(max_q.asnumpy())
            actor_steps = float(actor_steps.asnumpy())
        n = sums[STAT_FIELDS.index("steps")]
        if n == 0:
            return {"AverageQ": np.nan, "MaxQ": np.nan, "AverageY": np.nan,
                    "AverageQFunctionLoss": np.nan, "AveragePolicyLoss": np.nan, "GradSteps": 0}
        mean = {f: sums[i] / n for i, f in enumerate(STAT_FIELDS)}
        # Delayed actor steps: the policy loss is summed over the actor steps only.
        policy_loss = (sums[STAT_FIELDS.index("policy_loss")] / actor_steps if actor_steps
                       else np.nan)
        return {"AverageQ": mean["q"], "MaxQ": max_q, "AverageY": mean["y"],
                "AverageQFunctionLoss": mean["qf_loss"],
                "AveragePolicyLoss": policy_loss, "GradSteps": int(n)}
