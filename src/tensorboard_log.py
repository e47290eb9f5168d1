"""TensorBoard event files of a training run (setting `tensorboard`), under OUTPUT_DIR/tensorboard.

Written with tensorboardX (an optional requirement: requirements-tensorboard.txt), read back
here with a small reader of the event files' record format, so that a resumed run can drop the
points written after the state it resumes from: TensorBoard then shows one curve per scalar,
its steps strictly increasing, none written twice. The x-axis is the environment step.
"""
import glob
import os
import struct
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from src.errors import UserError

SUBDIR = "tensorboard"
_HEADER = struct.Struct("<QI")  # record length, masked CRC of the length
_FOOTER = 4  # masked CRC of the data


def require_writer() -> None:
    """Refuses `tensorboard: true` in one line where tensorboardX is not installed (checked
    before a run does any work)."""
    try:
        import tensorboardX  # noqa: F401
    except ImportError:
        raise UserError("setting 'tensorboard' needs tensorboardX: "
                        "pip install -r requirements-tensorboard.txt") from None


def _records(path: str) -> Iterator[Tuple[bytes, bytes]]:
    """(raw record, event bytes) of each whole record in an event file; a record cut short
    (a run killed while writing) ends the file."""
    with open(path, "rb") as f:
        data = f.read()
    at = 0
    while at + _HEADER.size <= len(data):
        length, _ = _HEADER.unpack_from(data, at)
        end = at + _HEADER.size + length + _FOOTER
        if end > len(data):
            break
        yield data[at:end], data[at + _HEADER.size:at + _HEADER.size + length]
        at = end


def _event(payload: bytes):
    from tensorboardX.proto import event_pb2
    event = event_pb2.Event()
    event.ParseFromString(payload)
    return event


def event_files(logdir: str) -> List[str]:
    """The event files of `logdir`, in the order TensorBoard reads them (by name: time first)."""
    return sorted(glob.glob(os.path.join(logdir, "events.out.tfevents.*")))


def read_scalars(logdir: str) -> Dict[str, List[Tuple[int, float]]]:
    """Every scalar of `logdir`'s event files: tag -> [(step, value), ...] in file order."""
    scalars: Dict[str, List[Tuple[int, float]]] = {}
    for path in event_files(logdir):
        for _, payload in _records(path):
            event = _event(payload)
            for value in event.summary.value:
                scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    return scalars


def drop_after(logdir: str, step: int) -> None:
    """Removes every scalar written at a step after `step` (all of them for step < 0) from the
    event files of `logdir`; a file left with none is deleted. Each file is replaced whole."""
    for path in event_files(logdir):
        kept, dropped, scalars_kept = [], 0, 0
        for record, payload in _records(path):
            event = _event(payload)
            if event.HasField("summary") and event.step > step:
                dropped += 1
                continue
            scalars_kept += event.HasField("summary")
            kept.append(record)
        if not scalars_kept:
            os.remove(path)
        elif dropped or os.path.getsize(path) != sum(map(len, kept)):
            tmp = path + ".tmp"
            with open(tmp, "wb") as f:
                f.write(b"".join(kept))
            os.replace(tmp, path)


class TensorBoardLog:
    """Scalars of a run: per finished training episode, and per epoch.

    `resumed_at` is the (global) environment step of the state a run resumes from: points
    after it, written by the interrupted run, are dropped first. A fresh run (None) starts the
    directory's curves anew.
    """

    def __init__(self, output_dir: str, resumed_at: Optional[int]):
        from tensorboardX import SummaryWriter
        self.logdir = os.path.join(output_dir, SUBDIR)
        os.makedirs(self.logdir, exist_ok=True)
        drop_after(self.logdir, -1 if resumed_at is None else resumed_at)
        self.writer = SummaryWriter(self.logdir, flush_secs=30)

    def episodes(self, finished: Sequence[Tuple[int, float, int]], world: int = 1) -> None:
        """Return and length of each finished training episode at the step it ended; episodes
        that ended at the same step (parallel env copies) are one point, their mean."""
        by_step: Dict[int, List[Tuple[float, int]]] = {}
        for step, ret, length in finished:
            by_step.setdefault(step * world, []).append((ret, length))
        for step in sorted(by_step):
            eps = by_step[step]
            self.writer.add_scalar("Episode/Return", sum(r for r, _ in eps) / len(eps), step)
            self.writer.add_scalar("Episode/Length", sum(n for _, n in eps) / len(eps), step)

    def epoch(self, step: int, scalars: Dict[str, float]) -> None:
        """One point per scalar at environment step `step` (NaNs, as before learning starts,
        are left out)."""
        for tag, value in scalars.items():
            if value == value:
                self.writer.add_scalar(tag, float(value), step)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
