"""Full training states on disk: written atomically, kept in rotation, read back safely.

A state is a directory <output_dir>/state/epoch_NNNNNN/ (worker r > 0 of a distributed run:
<output_dir>/state/rank_r/epoch_NNNNNN/, each worker saving its own data) holding
  meta.json     counters, settings, metric rows, random generator states, env episode starts,
                the noise decay schedule (see src/snapshot.py for the contents)
  arrays.npz    replay buffer contents, current observations, noise state, env action logs
  learner.ckpt  every learner parameter: four networks (six with twin critics), both Adam
                states, TD3's critic step count, statistics
No pickle anywhere: JSON, NumPy .npz read with allow_pickle=False, a MindSpore checkpoint.
It is written under a .tmp name, each file fsynced, then renamed: a process killed at any
instant leaves either the complete new state or none, and the older states untouched.
"""
import json
import os
import re
import shutil
import signal
import sys
import tempfile
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import mindspore as ms
from mindspore import nn

from src.errors import UserError, first_line
from src.runtime import sum_over_workers

FORMAT_VERSION = 1
_NAME = re.compile(r"^epoch_(\d{6})$")
FILES = ("meta.json", "arrays.npz", "learner.ckpt")


def ensure_writable_dir(path: str, setting: str) -> None:
    """Creates directory `path` and proves it writable before any work starts."""
    try:
        os.makedirs(path, exist_ok=True)
        # A probe of its own: msrun workers share output_dir, and one fixed name let one worker
        # delete the probe another was about to delete.
        fd, probe = tempfile.mkstemp(prefix=".write_test_", dir=path)
        os.close(fd)
        os.remove(probe)
    except OSError as exc:
        raise UserError(f"{setting} '{path}' cannot be written: {exc.strerror}") from None


def state_root(output_dir: str, rank: int = 0) -> str:
    root = os.path.join(output_dir, "state")
    return root if rank == 0 else os.path.join(root, f"rank_{rank}")


def list_states(output_dir: str, rank: int = 0) -> List[Tuple[int, str]]:
    """Complete states as (epoch, path), oldest first; unfinished .tmp directories excluded."""
    root = state_root(output_dir, rank)
    if not os.path.isdir(root):
        return []
    found = [(int(m.group(1)), os.path.join(root, name))
             for name in os.listdir(root) if (m := _NAME.match(name))]
    return sorted(found)


def _fsync_file(path: str) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_state(output_dir: str, epoch: int, meta: dict, arrays: Dict[str, np.ndarray],
                learner_cell: nn.Cell, keep: int, rank: int = 0) -> str:
    """Writes the state of `epoch` atomically and keeps only the newest `keep` states."""
    root = state_root(output_dir, rank)
    os.makedirs(root, exist_ok=True)
    final = os.path.join(root, f"epoch_{epoch:06d}")
    tmp = final + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    with open(os.path.join(tmp, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(dict(meta, format=FORMAT_VERSION, epoch=epoch), f)
    if os.environ.get("DDPG_TEST_KILL_IN_SAVE") == str(epoch):
        os.kill(os.getpid(), signal.SIGKILL)  # fault injection for the crash tests only
    np.savez(os.path.join(tmp, "arrays.npz"), **arrays)
    ms.save_checkpoint(learner_cell, os.path.join(tmp, "learner.ckpt"))
    for name in FILES:
        _fsync_file(os.path.join(tmp, name))
    _fsync_dir(tmp)
    if os.path.exists(final):  # the same epoch saved again after a resume from an older state
        shutil.rmtree(final)
    os.rename(tmp, final)
    _fsync_dir(root)
    for _, old in list_states(output_dir, rank)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def read_state(path: str) -> Tuple[dict, Dict[str, np.ndarray], Dict[str, np.ndarray]]:
    """(meta, arrays, learner parameters) of the state at `path`; UserError if unreadable."""
    if not os.path.isdir(path):
        raise UserError(f"training state not found: {path}")
    for name in FILES:
        file = os.path.join(path, name)
        if not os.path.isfile(file) or os.path.getsize(file) == 0:
            raise UserError(f"training state {path} is incomplete: {name} is missing or empty")
    try:
        with open(os.path.join(path, "meta.json"), encoding="utf-8") as f:
            meta = json.load(f)
        with np.load(os.path.join(path, "arrays.npz"), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        params = {k: v.asnumpy() for k, v in
                  ms.load_checkpoint(os.path.join(path, "learner.ckpt")).items()}
    except Exception as exc:  # json, zipfile, MindSpore: each has its own error types
        raise UserError(f"training state {path} is truncated or corrupted "
                        f"({first_line(exc)})") from None
    if meta.get("format") != FORMAT_VERSION:
        raise UserError(f"training state {path} has format {meta.get('format')}, "
                        f"this version reads {FORMAT_VERSION}")
    return meta, arrays, params


def agree_over_workers(n_epochs: int, world: int):
    """The `common_epoch` of resolve_resume for a distributed run of `world` workers.

    Slot 0 of the all-reduced vector counts the workers holding any state, slot e those
    holding epoch e complete.
    """
    def common_epoch(epochs: List[int]) -> Tuple[Optional[int], bool]:
        held = np.zeros(n_epochs + 1, np.float32)
        held[[e for e in epochs if 1 <= e <= n_epochs]] = 1.0
        held[0] = float(bool(epochs))
        counts = np.rint(sum_over_workers(held)).astype(int)
        common = [e for e in range(1, len(counts)) if counts[e] == world]
        return (common[-1] if common else None), bool(counts[0])
    return common_epoch


def _complete(path: str) -> bool:
    return all(os.path.isfile(os.path.join(path, name)) and
               os.path.getsize(os.path.join(path, name)) > 0 for name in FILES)


def resolve_resume(output_dir: str, resume: str, rank: int = 0,
                   common_epoch: Optional[Callable[[List[int]], Tuple[Optional[int], bool]]]
                   = None):
    """The state to resume from: (path, meta, arrays, params), or None to start afresh.

    `resume` is "" (new run; refused if output_dir already holds a state), "auto" (the newest
    readable state in output_dir, falling back to older ones with a warning), or a state path.
    In a distributed run every worker reads its own states, and `common_epoch` makes them
    resume the same epoch: given the epochs this worker holds complete, it returns
    the newest epoch every worker holds, or None, and whether any worker holds a state.
    """
    states = list_states(output_dir, rank)
    if not resume:
        if states:
            raise UserError(f"output_dir '{output_dir}' already holds a training state "
                            f"(epoch {states[-1][0]}): pass --resume auto to continue it, or "
                            f"choose another output_dir")
        return None
    if common_epoch is not None:
        if resume != "auto":
            raise UserError("a distributed run resumes with resume: auto (every worker reads "
                            "its own state in output_dir)")
        epoch, anywhere = common_epoch([e for e, path in states if _complete(path)])
        if epoch is None:
            if anywhere:
                raise UserError(f"no training state in {output_dir} is complete on every "
                                f"worker: cannot resume this distributed run")
            print(f"no training state in {output_dir}: starting a new run", file=sys.stderr)
            return None
        path = dict(states)[epoch]
        return (path,) + read_state(path)
    if resume != "auto":
        return (resume,) + read_state(resume)
    if not states:
        print(f"no training state in {output_dir}: starting a new run", file=sys.stderr)
        return None
    problems = []
    for _, path in reversed(states):
        try:
            return (path,) + read_state(path)
        except UserError as exc:
            problems.append(str(exc))
            print(f"warning: {exc}; trying an older state", file=sys.stderr)
    raise UserError(f"no readable training state in {output_dir} ({problems[-1]})")
