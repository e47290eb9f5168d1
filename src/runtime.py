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

import numpy as np  # noqa: E402

from src.errors import UserError  # noqa: E402


def device_for_worker(device_target: str, device_id: int, distributed: bool,
                      environ=os.environ) -> int:
    """The device index this process uses.

    msrun starts the workers of a host with DEVICE_ID set to their local rank (0, 1, ...):
    under msrun on GPU or Ascend each worker takes that device, so that the workers of a host
    do not all land on `device_id`. A single process uses `device_id`; CPU ignores it.
    """
    if not distributed or device_target == "CPU" or "DEVICE_ID" not in environ:
        return device_id
    try:
        return int(environ["DEVICE_ID"])
    except ValueError:
        raise UserError(f"DEVICE_ID is {environ['DEVICE_ID']!r}: msrun sets it to the worker's "
                        f"local rank, an integer") from None


def init_mindspore(device_target: str, device_id: int = 0, seed: int = 0,
                   distributed: bool = False) -> None:
    """Selects the device (refusing one whose backend is missing), graph mode, and the seed.

    With `distributed`, joins the msrun job and sets data-parallel mode: gradients are then
    averaged over the workers (see TrainOneStep); on GPU/Ascend each worker takes the device of
    its local rank (see device_for_worker). Every worker uses the same `seed` here, so the
    networks start identical; their data are seeded per rank (see Trainer).
    """
    import mindspore as ms

    if not ms.hal.is_available(device_target):
        raise UserError(
            f"device_target {device_target} is not available: MindSpore cannot load its backend "
            f"on this machine (use --device_target CPU, or install MindSpore with {device_target} "
            f"support on a host that has the device)")
    if distributed and "MS_WORKER_NUM" not in os.environ:
        raise UserError("distributed training needs msrun: use "
                        "scripts/run_distribute_train_cpu.sh WORKER_NUM [CONFIG_PATH]")
    ms.set_context(mode=ms.GRAPH_MODE)
    ms.set_device(device_target, device_for_worker(device_target, device_id, distributed))
    ms.set_seed(seed)
    if distributed:
        from mindspore.communication import init
        init()
        ms.set_auto_parallel_context(parallel_mode=ms.ParallelMode.DATA_PARALLEL,
                                     gradients_mean=True)


def worker() -> tuple:
    """(rank, number of workers) of this process: (0, 1) outside a distributed job."""
    import mindspore as ms
    if ms.context.get_auto_parallel_context("parallel_mode") != ms.ParallelMode.DATA_PARALLEL:
        return 0, 1
    from mindspore.communication import get_group_size, get_rank
    return get_rank(), get_group_size()


def sum_over_workers(values: np.ndarray) -> np.ndarray:
    """The element-wise sum of a float32 vector over all workers of a distributed run."""
    import mindspore as ms
    from mindspore import nn, ops

    class _AllReduceSum(nn.Cell):
        def __init__(self):
            super().__init__()
            self.all_reduce = ops.AllReduce()

        def construct(self, x):
            return self.all_reduce(x)

    return _AllReduceSum()(ms.Tensor(np.asarray(values, np.float32))).asnumpy()
