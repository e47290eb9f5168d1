"""Where one update of this package's learner spends its time: MindSpore's profiler, by category.

    python benchmarks/profile_update.py [--batches 64 256] [--updates 60] [--shapes pendulum]
        [--backends graph native] [--keep DIR]

For every (backend, batch) a child process builds the Learner (Pendulum shapes: 3 obs, 1
action, 400-300; or halfcheetah: 17 obs, 6 actions, 256-256), feeds it random batches through
`Learner.update` (grad_steps_per_call stacked batches per call, as the trainer does), and:

1. times `--updates` updates without the profiler (median of `--repeats` repeats): the wall
   clock per update;
2. runs the same updates under `mindspore.Profiler` and reads, from FRAMEWORK/ of its output,
   cpu_op_execute_timestamp_0.txt (start and duration of every kernel launch, by full scoped
   name) aligned launch by launch with cpu_framework_0.txt (op name and input shapes), and
   checks the total against the per-op totals of cpu_op_detail_info_0.csv.

Kernels are put in categories: large products (MatMul whose operands have every dimension
>= 64), small products (other MatMuls), elementwise and reductions (BiasAdd, ReLU, Tanh, Mul,
Add, ... and their gradients, loss maths), optimizer (Adam and its scalar updates: scope
`*_opt-Adam`), soft updates and copies (scope `*soft_update*`, Assign, TensorMove, and the
scope-less scalar Muls whose operand has a parameter's shape: tau * online, (1 - tau) * target),
other (the multi-step loop's control and batch slicing, the statistics accumulators, anything
unknown). "Between kernels / host" is wall clock minus kernel time. Medians and sums are per
gradient update. A markdown table per backend and batch is printed.
"""
import argparse
import glob
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_learner import (SHAPES, Parser, add_backends_argument,  # noqa: E402
                           learner_backends, package_name,
                           package_overrides, random_batches, stacked)
from src.errors import UserError, run_cli  # noqa: E402

CATEGORIES = ("large products", "small products", "elementwise and reductions", "optimizer",
              "soft updates and copies", "other")
ELEMENTWISE = {"BiasAdd", "BiasAddGrad", "ReLU", "ReluGrad", "Tanh", "TanhGrad", "Mul", "Add",
               "Sub", "Square", "RealDiv", "Div", "Neg", "Pow", "Maximum", "Minimum", "Concat",
               "Slice", "StridedSlice", "StridedSliceGrad", "ReduceMean", "ReduceSum", "Cast",
               "Sqrt", "Exp", "Sigmoid", "AddN", "Transpose", "Reshape", "Split", "ClipByValue"}
LARGE = 64  # every operand dimension at least this: a "large" product


def _shape(field: str):
    """'input_1:[64, 400]' -> (64, 400); 'input_3:NoShape' -> None."""
    text = field.split(":", 1)[1] if ":" in field else ""
    if not text.startswith("["):
        return None
    return tuple(int(x) for x in text.strip("[]").split(",") if x.strip())


def read_trace(framework_dir: str):
    """Every kernel launch as (start_ns, duration_ms, full_name, op_type, input shapes)."""
    stamps = os.path.join(framework_dir, "cpu_op_execute_timestamp_0.txt")
    shapes = os.path.join(framework_dir, "cpu_framework_0.txt")
    for path in (stamps, shapes):
        if not os.path.isfile(path):
            raise UserError(f"the profiler wrote no {os.path.basename(path)} in {framework_dir} "
                            f"(this script reads MindSpore 2.10's CPU profiler output)")
    events = []
    with open(stamps, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            name, _side, launches = line.rstrip("\n").split(";", 2)
            for launch in launches.split():
                start, duration = launch.split(",")[:2]
                events.append((int(start), float(duration), name))
    events.sort()
    with open(shapes, encoding="utf-8") as f:
        infos = [line.rstrip("\n").split(";") for line in f if line.strip()]
    # cpu_framework_0.txt lists the launches in execution order, so the two files align.
    if len(infos) != len(events) or any(
            name.rsplit("/", 1)[-1] != info[1] for (_, _, name), info in zip(events, infos)):
        raise UserError(f"cannot align the launches of {stamps} with {shapes}: the profiler's "
                        f"output format differs from MindSpore 2.10's")
    detail = os.path.join(framework_dir, "cpu_op_detail_info_0.csv")
    if os.path.isfile(detail):  # the profiler's own per-op totals must add up to the same
        import csv
        with open(detail, encoding="utf-8", newline="") as f:
            total = sum(float(row["op_total_time(ms)"]) for row in csv.DictReader(f))
        launched = sum(e[1] for e in events)
        if abs(total - launched) > 0.01 * max(total, 1e-9):
            raise UserError(f"{detail} totals {total:.3f} ms but the launches add up to "
                            f"{launched:.3f} ms: the profiler's output is not understood")
    return [(start, duration, name, info[0], [_shape(x) for x in info[3:]])
            for (start, duration, name), info in zip(events, infos)]


def category(name: str, op_type: str, inputs, param_shapes, batch: int) -> str:
    if op_type in ("MatMul", "BatchMatMul"):
        dims = [d for s in inputs[:2] if s for d in s]
        return "large products" if dims and min(dims) >= LARGE else "small products"
    if op_type == "Adam" or "_opt-" in name or "optimizer" in name.lower():
        return "optimizer"
    if "soft_update" in name or op_type in ("Assign", "TensorMove"):
        return "soft updates and copies"
    first = inputs[0] if inputs else None
    if op_type == "Mul" and name.startswith("Expand/") and first in param_shapes \
            and (not first or first[0] != batch):
        return "soft updates and copies"
    # Direct children of the update cell are the statistics accumulators (AssignAdd, Stack, ...).
    if re.fullmatch(r"Default/step-[^/]+/[^/]+", name):
        return "other"
    scoped = name.startswith(("Default/step-", "Gradients/")) or \
        (name.startswith("Expand/") and "_LessScalar" not in name)
    if scoped and op_type in ELEMENTWISE:
        return "elementwise and reductions"
    return "other"  # loop control (Less, Select, Add of the counter), batch slicing (Gather)


def child(args) -> None:
    """Wall clock, then the profile, of one backend at one batch size; prints one JSON line."""
    import numpy as np
    import src.runtime  # noqa: F401  (before mindspore)
    from src.config import load_config
    from src.environment import EnvSpec
    from src.learner import Learner
    from src.runtime import init_mindspore
    obs_dim, act_dim, bound, hidden = SHAPES[args.shapes]
    backend = None if args.backend == "-" else args.backend
    init_mindspore("CPU", 0, 0)
    cfg, _ = load_config(package_overrides(hidden, backend))
    high = np.full(act_dim, bound, np.float32)
    learner = Learner(EnvSpec("bench", obs_dim, act_dim, -high, high, None), cfg)
    cell = getattr(learner, "update_cell", None)
    param_shapes = {tuple(p.shape) for p in cell.get_parameters()} if cell is not None else set()
    k = cfg.grad_steps_per_call
    feeds = stacked(random_batches(np.random.default_rng(0), args.batch, obs_dim, act_dim,
                                   bound), k)
    calls = max(1, args.updates // k)
    updates = calls * k

    def run():
        for i in range(calls):
            learner.update(feeds[i % len(feeds)])
        learner.read_stats()  # waits for the last update (a no-op wait in blocking mode)

    for _ in range(2):  # compile and warm up
        run()
    walls = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        run()
        walls.append((time.perf_counter() - start) * 1e3 / updates)

    if getattr(learner, "backend", "graph") == "native":
        native_profile(learner, feeds, calls, updates, walls)
        return
    from mindspore import Profiler
    prof = Profiler(output_path=args.out)
    for i in range(calls):  # the updates alone: read_stats is left out of the trace
        learner.update(feeds[i % len(feeds)])
    prof.stop()
    prof.analyse()
    dirs = glob.glob(os.path.join(args.out, "*", "FRAMEWORK"))
    if not dirs:
        raise UserError(f"the profiler wrote no */FRAMEWORK directory under {args.out}")
    events = read_trace(dirs[0])
    ms_by = defaultdict(float)
    launches = defaultdict(int)
    other_types = defaultdict(float)
    for _, duration, name, op_type, inputs in events:
        cat = category(name, op_type, inputs, param_shapes, args.batch)
        ms_by[cat] += duration / updates
        launches[cat] += 1
        if cat == "other":
            other_types[op_type] += duration / updates
    # Idle time between launches inside the profiled window (profiler overhead included).
    span_ms = (events[-1][0] - events[0][0]) / 1e6 + events[-1][1]
    gaps_ms = (span_ms - sum(e[1] for e in events)) / updates
    print("RESULT " + json.dumps({"trace_gaps_ms": gaps_ms,
        "wall_ms": statistics.median(walls), "walls": walls, "updates": updates,
        "ms": {c: ms_by[c] for c in CATEGORIES},
        "kernels": {c: launches[c] / updates for c in CATEGORIES},
        "other_types": dict(sorted(other_types.items(), key=lambda x: -x[1])[:5])}),
        flush=True)


def native_profile(learner, feeds, calls: int, updates: int, walls) -> None:
    """The native op is one kernel per call: its own timers (src/csrc/ddpg_update.cc) split it.

    Adam and the soft updates are one fused pass there, reported as "optimizer"; elementwise is
    the op's time outside products and that pass (bias+ReLU, masks, tanh, TD target, loss).
    """
    import ctypes
    from src.native import library_path
    lib = ctypes.CDLL(library_path())  # the library MindSpore loaded: same counters
    out = (ctypes.c_double * 5)()
    lib.DDPGUpdateReadProfile(out)  # discard what came before
    lib.DDPGUpdateSetProfiling(1)
    for i in range(calls):
        learner.update(feeds[i % len(feeds)])
    learner.read_stats()
    lib.DDPGUpdateSetProfiling(0)
    lib.DDPGUpdateReadProfile(out)
    large, small, optimizer, total = (x * 1e3 / updates for x in out[:4])
    steps = out[4]
    if int(steps) != updates:
        raise UserError(f"the native op counted {int(steps)} steps, expected {updates}")
    ms = {c: 0.0 for c in CATEGORIES}
    ms.update({"large products": large, "small products": small, "optimizer": optimizer,
               "elementwise and reductions": total - large - small - optimizer})
    kernels = {c: 0.0 for c in CATEGORIES}
    kernels["other"] = 1.0 / (updates / calls)  # one Custom op per call
    print("RESULT " + json.dumps({"trace_gaps_ms": 0.0, "wall_ms": statistics.median(walls),
                                  "walls": walls, "updates": updates, "ms": ms,
                                  "kernels": kernels, "other_types": {},
                                  "note": "native: soft updates are fused into the optimizer "
                                          "pass; one kernel per call"}), flush=True)


def table(backend_label: str, shapes: str, batch: int, res: dict) -> None:
    wall, kernel = res["wall_ms"], sum(res["ms"].values())
    print(f"\n{backend_label}, {shapes} shapes, batch {batch}: {res['updates']} updates; wall "
          f"clock without the profiler {wall:.3f} ms per update (repeats: "
          f"{', '.join(f'{w:.3f}' for w in res['walls'])})\n")
    print("| category | ms per update | share of wall clock | kernels per update |")
    print("| --- | --- | --- | --- |")
    for c in CATEGORIES:
        print(f"| {c} | {res['ms'][c]:.3f} | {res['ms'][c] / wall:.1%} | "
              f"{res['kernels'][c]:.1f} |")
    print(f"| all kernels | {kernel:.3f} | {kernel / wall:.1%} | "
          f"{sum(res['kernels'].values()):.1f} |")
    print(f"| between kernels / host (wall - kernels) | {wall - kernel:.3f} | "
          f"{(wall - kernel) / wall:.1%} | |")
    print(f"| wall clock | {wall:.3f} | 100.0% | |")
    if wall < kernel:
        print("\nkernel time exceeds the unprofiled wall clock: the profiler slows the kernels it "
              "times, or the host was busy (compare the repeats)")
    print(f"\nidle time between kernel launches inside the profiled window: "
          f"{res['trace_gaps_ms']:.3f} ms per update (with the profiler's own overhead)")
    if res.get("note"):
        print(f"\n{res['note']}")
    if res["other_types"]:
        print("\nlargest op types in 'other' (ms per update): " + ", ".join(
            f"{t} {v:.3f}" for t, v in res["other_types"].items()))
    sys.stdout.flush()


def main(argv) -> int:
    parser = Parser(description=__doc__.splitlines()[0],
                    formatter_class=argparse.RawDescriptionHelpFormatter,
                    epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--batches", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--updates", type=int, default=60,
                        help="gradient updates timed and profiled (whole calls of K steps)")
    parser.add_argument("--repeats", type=int, default=3, help="wall-clock repeats")
    parser.add_argument("--shapes", choices=sorted(SHAPES), default="pendulum")
    add_backends_argument(parser, "profile")
    parser.add_argument("--keep", metavar="DIR",
                        help="keep the profiler's output under DIR (default: a temporary "
                             "directory, deleted)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--backend", default="-", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        child(args)
        return 0
    if min(args.batches) < 1 or args.updates < 1 or args.repeats < 1:
        raise UserError("--batches, --updates and --repeats must be positive")
    backends = learner_backends(args.backends)
    root = args.keep or tempfile.mkdtemp(prefix="profile_update_")
    try:
        for backend in backends:
            for batch in args.batches:
                out = os.path.join(root, f"{backend or 'default'}_{args.shapes}_b{batch}")
                shutil.rmtree(out, ignore_errors=True)
                # A child per profile: one Profiler per process, and a fresh compile each time.
                cmd = [sys.executable, os.path.abspath(__file__), "--worker",
                       "--backend", backend or "-", "--batch", str(batch),
                       "--updates", str(args.updates), "--repeats", str(args.repeats),
                       "--shapes", args.shapes, "--out", out]
                proc = subprocess.run(cmd, capture_output=True, text=True)
                lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
                if proc.returncode != 0 or not lines:
                    err = [x for x in proc.stderr.splitlines() if x.strip()]
                    raise UserError(f"profiling child failed for backend {backend or 'default'}"
                                    f" at batch {batch}: {err[-1] if err else proc.returncode}")
                table(package_name(backend), args.shapes, batch,
                      json.loads(lines[-1][len("RESULT "):]))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main, sys.argv[1:]))
