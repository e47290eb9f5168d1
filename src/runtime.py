"""MindSpore runtime set-up. Import this module before anything imports mindspore.

On a small CPU host MindSpore's runtime threads spin-wait for the cores (`sched_yield` in
AsyncRQueue::Wait); measured here, a jitted 400-300 update took 21.9 ms by default and 2.0 ms with
MS_DEV_HOST_BLOCKING_RUN=1, which runs the graph on the calling thread. That variable is read
when mindspore is imported, so it is set here, at import time, unless the user already set it.
"""
import os

os.environ.setdefault("MS_DEV_HOST_BLOCKING_RUN", "1")
# MindSpore logs a warning for every backend plugin it cannot load (GPU, Ascend); keep errors only.
os.environ.setdefault("GLOG_v", "3")

from src.errors import UserError  # noqa: E402


def init_mindspore(device_target: str, device_id: int = 0, seed: int = 0) -> None:
    """Selects the device (refusing one whose backend is missing), graph mode, and the seed."""
    import mindspore as ms

    if not ms.hal.is_available(device_target):
        raise UserError(
            f"device_target {device_target} is not available: MindSpore cannot load its backend "
            f"on this machine (use --device_target CPU, or install MindSpore with {device_target} "
            f"support on a host that has the device)")
    ms.set_context(mode=ms.GRAPH_MODE)
    ms.set_device(device_target, device_id)
    ms.set_seed(seed)
