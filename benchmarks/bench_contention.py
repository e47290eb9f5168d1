"""The native learner under load: several runs on one machine, busy neighbours, a CPU quota.

    pip install -r requirements-bench.txt
    python benchmarks/bench_contention.py --smoke          # every scenario, tiny (~2 minutes)
    python benchmarks/bench_contention.py --rounds 3 --updates 5000   # the measurement

How people run seeds is several `python train.py --seed S &` at once on the same cores; this
measures what that costs. Each contender is a process of its own running the DDPG update of
bench_learner.py on random batches (Pendulum shapes, 400-300 networks, batch 256,
grad_steps_per_call steps per call): this package's learner with `learner_backend native`, and
the JAX + optax peer. A process builds its learner, runs `--warm` updates (compilation, the
kernel's thread pool), reports ready and waits; when every process of the scenario is ready,
all start together and each times `--updates` updates; a process that is done keeps updating
(untimed) until all are, so every timed window is fully contended. Scenarios:

  alone          one process, all cores
  pinned_pair    two processes, each pinned to its own core (as taskset -c does); combined rate
  unpinned_pair  two processes, not pinned; combined rate
  busy           one process beside a busy loop (a spinning Python process) of equal priority
  niced_busy     one process beside a busy loop started with nice 19
  cgroup_1cpu    one process in a cgroup of its own limited to one CPU (cgroup v2 cpu.max
                 '100000 100000', or v1 cpu.cfs_quota_us = cpu.cfs_period_us); needs root and
                 a writable cpu controller, else the row says why it was skipped

Scenarios run in the order given, every contender within each (in reversed order every other
round), `--rounds` times; figures are medians over rounds. The table gives updates/s per
scenario (summed over the pair), the native kernel's pool size (DDPGUpdateThreads) in each
process, and the ratios the issue asks for: unpinned pair / pinned pair, and the slowdown
(alone / beside) next to a busy loop for this package against the JAX peer. Each process's line
also gives its CPU time over wall time in the timed window (above the useful work: spinning)
and its threads' involuntary context switches (a thread that lost its core while running);
for this package, the kernel pool's jobs in the window, how many ended late (a worker lost its
core), how many the caller ran alone because a recent one was late, and how many times a
woken worker found itself on the caller's CPU and moved to another.
Rates are of the update alone, not of training (no environment, buffer or acting).
"""
import argparse
import contextlib
import ctypes
import datetime
import json
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.util import find_spec
from typing import Dict, List, Optional, Sequence, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from bench_learner import Parser, SETTLE_S, cpu_model, package_name  # noqa: E402
from src.errors import UserError, run_cli  # noqa: E402

SCENARIOS = ("alone", "pinned_pair", "unpinned_pair", "busy", "niced_busy", "cgroup_1cpu")
TITLES = {"alone": "alone", "pinned_pair": "two at once, pinned one per core (combined)",
          "unpinned_pair": "two at once, unpinned (combined)",
          "busy": "beside a busy loop, equal priority", "niced_busy": "beside a busy loop, nice 19",
          "cgroup_1cpu": "cgroup limited to 1 CPU"}
CONTENDERS = ("ours", "jax")
SHAPE = "pendulum"
MESSAGE = "BENCH "  # prefix of the lines a worker writes for the parent
BUSY_LOOP = "while True:\n    pass\n"


# ------------------------------------------------------------------------------ worker side

def join_cgroup(procs_file: str) -> None:
    """Moves this process into the cgroup whose cgroup.procs is `procs_file`, before any
    library starts a thread or reads the CPU limit."""
    with open(procs_file, "w", encoding="utf-8") as f:
        f.write(str(os.getpid()))


def _kernel():
    """The native kernel's C API in this process: the library is loaded once, by path, so its
    pool is the one the learner's updates ran on."""
    from src.learner import native_api
    from src.native import library_path
    return native_api(library_path())


def pool_stats() -> List[int]:
    """The kernel pool's counters in this process: jobs handed to the pool, jobs that ended late
    (a thread lost its core), jobs run on the caller alone (after a late job or a failed trial),
    workers moved off the caller's CPU after waking."""
    out = (ctypes.c_int64 * 4)()
    written = _kernel().DDPGUpdatePoolStats(out, len(out))
    assert written == len(out), written
    return list(out)


def native_threads() -> int:
    """The native kernel's pool size in this process."""
    return int(_kernel().DDPGUpdateThreads())


def build_contender(which: str, batch: int):
    """(name, update, sync, k, feeds) of `which` with bench_learner.py's contenders."""
    import numpy as np
    from bench_learner import (SHAPES, jax_learner, mindspore_learner, random_batches,
                               stacked)
    shape = SHAPES[SHAPE]
    if which == "ours":
        name, (update, sync, k) = package_name("native"), mindspore_learner(shape, "native")
    else:
        import jax
        name = f"jax {jax.__version__}"
        from src.config import load_config
        update, sync, k = jax_learner(shape, load_config([])[0].grad_steps_per_call)
    obs_dim, act_dim, bound, _ = shape
    feeds = stacked(random_batches(np.random.default_rng(0), batch, obs_dim, act_dim, bound), k)
    return name, update, sync, k, feeds


def preemptions() -> int:
    """Involuntary context switches of this process's threads so far: a thread that loses its
    core while it has work shows here (spinning waiters do not)."""
    total = 0
    for task in os.listdir("/proc/self/task"):
        with contextlib.suppress(OSError):  # a thread may end meanwhile
            with open(f"/proc/self/task/{task}/status", encoding="utf-8") as f:
                total += sum(int(line.split()[1]) for line in f
                             if line.startswith("nonvoluntary_ctxt_switches"))
    return total


def _stop_requested() -> bool:
    readable, _, _ = select.select([sys.stdin], [], [], 0)
    return bool(readable)


def _send(**fields) -> None:
    print(MESSAGE + json.dumps(fields), flush=True)


def worker(which: str, warm: int, updates: int, batch: int, cgroup_procs: str) -> int:
    """One contender process: warm up, say ready, wait for go, time `updates` updates, report,
    keep the load on until told to stop."""
    if cgroup_procs:
        join_cgroup(cgroup_procs)
    name, update, sync, k, feeds = build_contender(which, batch)
    calls = max(1, updates // k)
    for i in range(max(1, warm // k)):
        update(feeds[i % len(feeds)])
    sync()
    _send(ready=True)
    if sys.stdin.readline().strip() != "go":
        return 1
    pool0 = pool_stats() if which == "ours" else None
    switches0, cpu0, start = preemptions(), time.process_time(), time.perf_counter()
    for i in range(calls):
        update(feeds[i % len(feeds)])
    sync()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu0
    switches = preemptions() - switches0
    pool = [b - a for a, b in zip(pool0, pool_stats())] if pool0 else None
    _send(name=name, updates=calls * k, seconds=seconds, rate=calls * k / seconds,
          cpu_per_wall=cpu / seconds, preempted=switches, cores=len(os.sched_getaffinity(0)),
          threads=native_threads() if which == "ours" else None, pool=pool)
    i = 0
    while not _stop_requested():
        update(feeds[i % len(feeds)])
        i += 1
    sync()
    return 0


# ------------------------------------------------------------------------------ parent side

class Skipped(Exception):
    """A scenario cannot run here; the message says why."""


@contextlib.contextmanager
def cpu_cgroup(name: str):
    """A cgroup limited to one CPU: yields (path of its cgroup.procs, what it is), and removes
    it after."""
    if os.geteuid() != 0:
        raise Skipped("needs root to create a cgroup")
    v2 = "/sys/fs/cgroup"
    v1 = "/sys/fs/cgroup/cpu"
    try:
        with open(os.path.join(v2, "cgroup.controllers"), encoding="utf-8") as f:
            v2_cpu = "cpu" in f.read().split()
    except OSError:
        v2_cpu = False
    if v2_cpu:
        path, limits = os.path.join(v2, name), {"cpu.max": "100000 100000"}
        what = f"cgroup v2, {path}/cpu.max = 100000 100000"
        try:  # the cpu controller must be enabled for the root's children
            with open(os.path.join(v2, "cgroup.subtree_control"), "w", encoding="utf-8") as f:
                f.write("+cpu")
        except OSError as exc:
            raise Skipped(f"cannot enable the cpu controller in {v2}: {exc.strerror}") from None
    elif os.path.isfile(os.path.join(v1, "cpu.cfs_quota_us")):
        path = os.path.join(v1, name)
        limits = {"cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "100000"}
        what = f"cgroup v1 (no cpu controller in v2 here), {path}/cpu.cfs_quota_us = period"
    else:
        raise Skipped(f"no cgroup cpu controller here ({v2} has no cpu in cgroup.controllers, "
                      f"no {v1}/cpu.cfs_quota_us)")
    try:
        os.mkdir(path)
    except OSError as exc:
        raise Skipped(f"cannot create cgroup {path}: {exc.strerror}") from None
    try:
        try:
            for key, value in limits.items():
                with open(os.path.join(path, key), "w", encoding="utf-8") as f:
                    f.write(value)
        except OSError as exc:
            raise Skipped(f"cannot limit cgroup {path}: {exc.strerror}") from None
        yield os.path.join(path, "cgroup.procs"), what
    finally:
        for _ in range(50):  # rmdir fails while the exiting process is still a member
            try:
                os.rmdir(path)
                break
            except OSError:
                time.sleep(0.1)


class Contender:
    """A worker process of this script, driven through its stdin and stdout."""

    def __init__(self, which: str, args, cpu: Optional[int] = None, cgroup_procs: str = ""):
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", which, "--warm",
               str(args.warm), "--updates", str(args.updates), "--batch", str(args.batch)]
        if cgroup_procs:
            cmd += ["--cgroup_procs", cgroup_procs]
        self.err = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err, text=True,
            cwd=ROOT, preexec_fn=(lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None
            else None)

    def receive(self) -> dict:
        for line in self.proc.stdout:
            if line.startswith(MESSAGE):
                return json.loads(line[len(MESSAGE):])
        self.proc.wait()
        self.err.seek(0)
        lines = self.err.read().strip().splitlines()
        raise UserError(f"a worker of {os.path.basename(__file__)} exited with status "
                        f"{self.proc.returncode}: {lines[-1] if lines else 'no output'}")

    def send(self, text: str) -> None:
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.send("stop")
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()


@contextlib.contextmanager
def busy_loop(niceness: int):
    """A spinning Python process, unpinned, at the caller's priority plus `niceness`."""
    proc = subprocess.Popen([sys.executable, "-c", BUSY_LOOP],
                            preexec_fn=(lambda: os.nice(niceness)) if niceness else None)
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def run_scenario(scenario: str, which: str, args, cpus: Sequence[int],
                 notes: Dict[str, str]) -> List[dict]:
    """Results of the processes of one scenario run (one per process); what the scenario set
    up goes into `notes`."""
    with contextlib.ExitStack() as stack:
        if scenario == "busy":
            stack.enter_context(busy_loop(0))
        elif scenario == "niced_busy":
            stack.enter_context(busy_loop(19))
        if scenario == "pinned_pair":
            if len(cpus) < 2:
                raise Skipped(f"needs two cores, this process may use {len(cpus)}")
            specs = [dict(cpu=cpus[0]), dict(cpu=cpus[1])]
        elif scenario == "unpinned_pair":
            specs = [{}, {}]
        elif scenario == "cgroup_1cpu":
            procs, notes[scenario] = stack.enter_context(
                cpu_cgroup(f"ddpg_bench_contention_{os.getpid()}"))
            specs = [dict(cgroup_procs=procs)]
        else:
            specs = [{}]
        contenders = [Contender(which, args, **spec) for spec in specs]
        for c in contenders:
            stack.callback(c.close)
        for c in contenders:
            c.receive()  # ready
        time.sleep(SETTLE_S)
        for c in contenders:
            c.send("go")
        return [c.receive() for c in contenders]


def _median(values: List[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(args, contenders: Sequence[str], names: Dict[str, str],
           rates: Dict[Tuple[str, str], List[float]], threads: Dict[Tuple[str, str], set],
           skipped: Dict[str, str], notes: Dict[str, str]) -> None:
    """The Markdown table and the ratios the issue asks for."""
    cores = len(os.sched_getaffinity(0))
    print(f"\n## Contention: {cpu_model()}, {cores} cores, "
          f"{datetime.date.today().isoformat()}")
    print(f"Pendulum shapes (400-300), batch {args.batch}, {args.warm} warm-up + "
          f"{args.updates} timed updates per process, medians of {args.rounds} rounds")
    med = {key: _median(v) for key, v in rates.items()}
    head = [f"{names.get(c, c)} updates/s" for c in contenders]
    head += [f"{names.get(c, c)} slowdown vs alone" for c in contenders]
    print("\n| scenario | " + " | ".join(head) + f" | {names['ours']} threads |")
    print("| --- " * (2 + len(head)) + "|")
    for s in args.scenarios:
        if s in skipped:
            print(f"| {TITLES[s]} | skipped: {skipped[s]} |" + " |" * len(head))
            continue
        cells = [f"{med[(s, c)]:.1f}" for c in contenders]
        cells += [f"{med[('alone', c)] / med[(s, c)]:.2f}x"
                  if s in ("busy", "niced_busy") and ("alone", c) in med else "-"
                  for c in contenders]
        print(f"| {TITLES[s]} | " + " | ".join(cells) + " | "
              + ", ".join(str(t) for t in sorted(threads.get((s, "ours"), set()))) + " |")
    print()
    for c in contenders:
        if ("unpinned_pair", c) in med and ("pinned_pair", c) in med:
            print(f"- {names.get(c, c)}: unpinned pair / pinned pair "
                  f"{med[('unpinned_pair', c)] / med[('pinned_pair', c)]:.2f}x (target >= 0.90)")
    for s in ("busy", "niced_busy"):
        keys = [(s, c) for c in contenders] + [("alone", c) for c in contenders]
        if "jax" in contenders and all(k in med for k in keys):
            ours, jax = (med[("alone", c)] / med[(s, c)] for c in ("ours", "jax"))
            verdict = "no more than" if ours <= jax else "MORE than"
            print(f"- {TITLES[s]}: this package slows down {ours:.2f}x, JAX {jax:.2f}x "
                  f"({verdict} the JAX peer)")
    if ("cgroup_1cpu", "ours") in threads:
        print(f"- cgroup limited to 1 CPU: the native kernel ran "
              f"{', '.join(map(str, sorted(threads[('cgroup_1cpu', 'ours')])))} thread(s) "
              f"(target 1); {notes['cgroup_1cpu']}")


def main(argv) -> int:
    parser = Parser(description=__doc__.splitlines()[0],
                    formatter_class=argparse.RawDescriptionHelpFormatter,
                    epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--contenders", nargs="+", choices=CONTENDERS, default=list(CONTENDERS),
                        help="ours: this package, learner_backend native; jax: the JAX peer")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument("--updates", type=int, default=5000, help="timed updates per process")
    parser.add_argument("--warm", type=int, default=1000, help="updates before timing")
    parser.add_argument("--batch", type=int, default=256, help="batch size")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny: one round of 20 warm-up + 40 timed updates (a test)")
    parser.add_argument("--worker", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--cgroup_procs", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.smoke:
        args.rounds, args.warm, args.updates = 1, 20, 40
    for name in ("rounds", "updates", "warm", "batch"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name} must be at least 1, got {getattr(args, name)}")
    if args.worker:
        return worker(args.worker, args.warm, args.updates, args.batch, args.cgroup_procs)

    contenders = list(dict.fromkeys(args.contenders))
    missing = [m for m in ("jax", "optax") if find_spec(m) is None]
    if missing and "jax" in contenders:
        contenders.remove("jax")
        print(f"JAX rows skipped: {' and '.join(missing)} not importable "
              f"(pip install -r requirements-bench.txt)", flush=True)
    if not contenders:
        raise UserError("no contender left to run (--contenders)")
    cpus = sorted(os.sched_getaffinity(0))
    names = {"ours": package_name("native"), "jax": "jax"}
    rates: Dict[Tuple[str, str], List[float]] = {}
    threads: Dict[Tuple[str, str], set] = {}
    skipped: Dict[str, str] = {}
    notes: Dict[str, str] = {}
    for r in range(args.rounds):
        for s in args.scenarios:
            for c in (contenders if r % 2 == 0 else contenders[::-1]):
                if s in skipped:
                    continue
                try:
                    results = run_scenario(s, c, args, cpus, notes)
                except Skipped as why:
                    skipped[s] = str(why)
                    print(f"round {r}  {s:13s} skipped: {why}", flush=True)
                    continue
                names[c] = results[0]["name"]
                rates.setdefault((s, c), []).append(sum(x["rate"] for x in results))
                if c == "ours":
                    threads.setdefault((s, c), set()).update(x["threads"] for x in results)
                for x in results:
                    print(f"round {r}  {s:13s} {x['name']:22s} {x['updates']} updates in "
                          f"{x['seconds']:.2f} s: {x['rate']:7.1f} updates/s, CPU/wall "
                          f"{x['cpu_per_wall']:.2f}, preempted {x['preempted']}, cores "
                          f"{x['cores']}, threads "
                          f"{x['threads'] if x['threads'] is not None else '-'}"
                          + (", pool jobs {} late {} alone {} moved {}".format(*x["pool"])
                             if x.get("pool") else ""), flush=True)
    report(args, contenders, names, rates, threads, skipped, notes)
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main, sys.argv[1:]))
