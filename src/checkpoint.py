"""Saving and loading network checkpoints (MindSpore .ckpt files, no pickle).

Actor checkpoints hold `a_fc1.weight ... a_fcN.bias` without any prefix: the layout of the
published MindSpore Hub DDPG actor-target. Loading one reads the architecture (observation size,
hidden sizes, action size) from the shapes, so eval.py and export.py need no matching config.
"""
import hashlib
import json
import os
import re
from typing import Dict, List, Optional, Tuple

import numpy as np
import mindspore as ms
from mindspore import nn

from src.environment import EnvSpec
from src.errors import UserError, first_line
from src.networks import ActorNet

_ACTOR_KEY = re.compile(r"^a_fc(\d+)\.(weight|bias)$")
# The artifact the model zoo publishes, and what eval.py / export.py read by default.
ACTOR_TARGET_CKPT = "ddpg_actortarget.ckpt"
# The networks of a run as written to output_dir after every epoch: file -> (attribute of
# DDPGNetworks, parameter-name prefix dropped so that actors have the hub layout). The second
# critic and its target exist with twin_critics only.
NETWORK_CKPTS = {"ddpg_actor.ckpt": ("actor", "actor."),
                 ACTOR_TARGET_CKPT: ("actor_target", "actor_target."),
                 "ddpg_critic.ckpt": ("critic", "critic."),
                 "ddpg_critictarget.ckpt": ("critic_target", "critic_target."),
                 "ddpg_critic2.ckpt": ("critic2", "critic2."),
                 "ddpg_critic2target.ckpt": ("critic2_target", "critic2_target.")}


# What the actors of a run were trained for, written beside its checkpoints: a checkpoint holds
# only weights, so an env with the same sizes but other action bounds, or an actor mapping tanh
# onto another interval (max_action), would load without a word. actor_low/actor_high (the
# interval, spec.actor_bounds(max_action)) are absent from runs written before them.
ENV_SPACES = "env_spaces.json"


def save_env_spaces(spec: EnvSpec, output_dir: str, max_action: float) -> None:
    actor_low, actor_high = spec.actor_bounds(max_action)
    with open(os.path.join(output_dir, ENV_SPACES), "w", encoding="utf-8") as f:
        json.dump({"env_id": spec.env_id, "obs_dim": spec.obs_dim, "act_dim": spec.act_dim,
                   "low": spec.low.tolist(), "high": spec.high.tolist(),
                   "actor_low": actor_low.tolist(), "actor_high": actor_high.tolist()}, f)


def _trained_spaces(ckpt_path: str) -> Optional[dict]:
    """The env_spaces.json beside a checkpoint, or None (the hub file, or older runs)."""
    path = os.path.join(os.path.dirname(ckpt_path), ENV_SPACES)
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


# How a pretrained agent (pretrained/NAME) was made, and what eval.py gives on its episodes.
MANIFEST = "manifest.yaml"


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(run_dir: str) -> dict:
    import yaml
    path = os.path.join(run_dir, MANIFEST)
    try:
        with open(path, encoding="utf-8") as f:
            manifest = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"cannot read {path}: {first_line(exc)}") from None
    if not isinstance(manifest, dict) or "sha256" not in manifest:
        raise UserError(f"{path} has no sha256 of its checkpoint")
    return manifest


def actor_ckpt_path(cfg) -> str:
    """--ckpt_file if given, else the actor-target checkpoint in output_dir; for a pretrained
    agent, after checking the checkpoint against its manifest's hash (a damaged or replaced
    file is refused, not evaluated)."""
    path = cfg.ckpt_file or os.path.join(cfg.output_dir, ACTOR_TARGET_CKPT)
    if getattr(cfg, "pretrained", ""):
        expected = read_manifest(cfg.output_dir)["sha256"]
        if not os.path.isfile(path) or file_sha256(path) != expected:
            raise UserError(f"pretrained agent '{cfg.pretrained}': {path} is missing or does "
                            f"not match the sha256 in its {MANIFEST}")
    return path


def save_cell(cell: nn.Cell, path: str, strip_prefix: str = "") -> None:
    """Writes `cell`'s parameters to `path` atomically (temporary file, fsync, rename)."""
    entries = [{"name": p.name[len(strip_prefix):] if p.name.startswith(strip_prefix)
                else p.name, "data": p}
               for p in cell.get_parameters()]
    tmp = f"{path}.tmp.ckpt"  # save_checkpoint appends .ckpt to any other name
    ms.save_checkpoint(entries, tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def save_networks(nets: nn.Cell, output_dir: str) -> None:
    """Writes the networks of `nets` (a DDPGNetworks) as NETWORK_CKPTS says."""
    for file_name, (attr, prefix) in NETWORK_CKPTS.items():
        if hasattr(nets, attr):
            save_cell(getattr(nets, attr), os.path.join(output_dir, file_name),
                      strip_prefix=prefix)


def load_params(path: str) -> Dict[str, np.ndarray]:
    """Reads a checkpoint into {name: array}; a missing, empty or unreadable file is a UserError."""
    if not os.path.isfile(path):
        raise UserError(f"checkpoint file not found: {path}")
    if os.path.getsize(path) == 0:
        raise UserError(f"checkpoint file is empty: {path}")
    try:
        params = ms.load_checkpoint(path)
    except Exception as exc:  # MindSpore raises ValueError/RuntimeError for damaged files
        raise UserError(f"checkpoint file is truncated or corrupted: {path} "
                        f"({first_line(exc)})") from None
    if not params:
        raise UserError(f"checkpoint file holds no parameters: {path}")
    return {name: p.asnumpy() for name, p in params.items()}


def actor_architecture(params: Dict[str, np.ndarray], path: str) -> Tuple[int, List[int], int]:
    """(obs_dim, hidden_sizes, act_dim) of an actor checkpoint, checked layer by layer."""
    layers = {}
    for name, value in params.items():
        m = _ACTOR_KEY.match(name)
        if m:
            layers.setdefault(int(m.group(1)), {})[m.group(2)] = value
    if not layers:
        raise UserError(f"{path} is not an actor checkpoint: no a_fc1.weight ... parameters "
                        f"(found {', '.join(sorted(params)[:3])} ...)")
    n = max(layers)
    sizes = []
    for i in range(1, n + 1):
        layer = layers.get(i, {})
        w, b = layer.get("weight"), layer.get("bias")
        if w is None or b is None or w.ndim != 2 or b.shape != (w.shape[0],):
            raise UserError(f"{path}: actor layer a_fc{i} is missing or malformed")
        if sizes and w.shape[1] != sizes[-1]:
            raise UserError(f"{path}: a_fc{i}.weight takes {w.shape[1]} inputs but the previous "
                            f"layer has {sizes[-1]} outputs")
        if not sizes:
            sizes.append(w.shape[1])
        sizes.append(w.shape[0])
    return sizes[0], sizes[1:-1], sizes[-1]


def load_actor(path: str, spec: EnvSpec, max_action: float = 0.0) -> ActorNet:
    """An ActorNet for `spec` with the weights of the actor checkpoint at `path`."""
    params = load_params(path)
    obs_dim, hidden, act_dim = actor_architecture(params, path)
    if (obs_dim, act_dim) != (spec.obs_dim, spec.act_dim):
        raise UserError(f"checkpoint {path} does not fit env '{spec.env_id}': it maps "
                        f"{obs_dim}-dim observations to {act_dim}-dim actions, the env has "
                        f"{spec.obs_dim}-dim observations and {spec.act_dim}-dim actions")
    trained = _trained_spaces(path)
    if trained is not None and not (np.allclose(trained["low"], spec.low) and
                                    np.allclose(trained["high"], spec.high)):
        raise UserError(f"checkpoint {path} does not fit env '{spec.env_id}': it was trained "
                        f"on env '{trained['env_id']}' with actions from {trained['low']} to "
                        f"{trained['high']}, the env's go from {spec.low.tolist()} to "
                        f"{spec.high.tolist()}")
    low, high = spec.actor_bounds(max_action)
    if trained is not None and "actor_low" in trained and not (
            np.allclose(trained["actor_low"], low) and np.allclose(trained["actor_high"], high)):
        raise UserError(f"checkpoint {path} was trained with actions from "
                        f"{trained['actor_low']} to {trained['actor_high']}, max_action "
                        f"{max_action} gives {low.tolist()} to {high.tolist()}: evaluate it "
                        f"with the max_action it was trained with")
    actor = ActorNet(obs_dim, act_dim, hidden, low, high)
    values = {p.name: ms.Parameter(ms.Tensor(params[p.name]), name=p.name)
              for p in actor.get_parameters()}
    ms.load_param_into_net(actor, values, strict_load=True)
    return actor


def actor_policy(actor: ActorNet):
    """The [1, obs_dim] -> [1, act_dim] NumPy map of a loaded actor, as eval.py runs it."""
    return lambda obs: actor(ms.Tensor(obs)).asnumpy()
