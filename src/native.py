"""Builds the native update kernel (src/csrc/ddpg_update.cc) for the `native` learner backend,
and sizes its thread pool.

The kernel is compiled on first use with the host's C++ compiler against the oneDNN library that
the MindSpore wheel ships, for this CPU (-march=native), and cached. The file name carries a hash
of everything the binary depends on: the source and its layout version, the flags, the compiler
(path and version), MindSpore (version and the lib directory the library's RUNPATH points at)
and the CPU, so a change of any of them builds anew. A cached file is trusted only after it has
loaded, in a child process first (a truncated library kills the process that maps it with
SIGBUS), and shows its entry points; one that does not is deleted and built once more. Builds go
to a temporary file that is renamed into place, so concurrent builds (msrun workers, test
processes) never see a half-written library.
"""
import ctypes
import glob
import hashlib
import math
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from typing import List, Mapping, NamedTuple, Optional, Sequence, Tuple

from src.errors import UserError

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "csrc", "ddpg_update.cc")
ENTRY = "DDPGUpdate"
# What a library must export before it is used (src/learner.py calls all of them).
SYMBOLS = (ENTRY, "DDPGUpdateThreads", "DDPGUpdateSetThreads")
# -march=native: the library is built on, and cached for, the CPU that runs it.
# -fno-math-errno lets the compiler vectorise Adam's square roots.
# -z nodelete: MindSpore's AOT kernel module dlcloses the library, while the pool's threads still
# run code inside it.
FLAGS = ["-std=c++17", "-O3", "-march=native", "-fno-math-errno", "-shared", "-fPIC", "-pthread",
         "-Wl,-z,nodelete"]
DNNL = "libdnnl.so.3"
TIMEOUT_ENV = "DDPG_NATIVE_BUILD_TIMEOUT"
DEFAULT_TIMEOUT = 300.0  # seconds, for each compiler or loader run; a build takes 5-40
THREADS_ENV = "DDPG_NATIVE_THREADS"
MAX_THREADS = 8  # the kernel's products are too small to gain from more
_LAYOUT_RE = re.compile(rb"^constexpr int kLayoutVersion = (\d+);", re.MULTILINE)


class NativeUnavailable(RuntimeError):
    """The kernel cannot be built or loaded here; the message says why in one line."""


def read_layout_version(source: bytes) -> int:
    """N of the source's `constexpr int kLayoutVersion = N;` line: the order and meaning of the
    op's inputs, which src/learner.py must match."""
    found = _LAYOUT_RE.search(source)
    if found is None:
        raise NativeUnavailable(f"{SOURCE} has no 'constexpr int kLayoutVersion = N;' line")
    return int(found.group(1))


def _read_source() -> bytes:
    try:
        with open(SOURCE, "rb") as f:
            return f.read()
    except OSError as exc:
        raise NativeUnavailable(f"cannot read {SOURCE}: {exc.strerror}") from exc


LAYOUT_VERSION = read_layout_version(_read_source())


def _read(path: str) -> Optional[str]:
    """A small text file's stripped content, or None if it cannot be read."""
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


# ---------------------------------------------------------------------------- identity and key

# /proc/cpuinfo lines that say which instructions -march=native may use. x86 names the model and
# its flags; aarch64 has neither and names the core by its ID register fields instead (all ARM
# cores would otherwise share one build).
_CPU_FIELDS = {
    "x86_64": ("model name", "flags"),
    "aarch64": ("CPU implementer", "CPU architecture", "CPU variant", "CPU part",
                "CPU revision", "Features"),
}
_OTHER_CPU_FIELDS = ("model name", "flags", "Features", "cpu", "isa", "uarch")


def cpu_id(cpuinfo: str, machine: str, midr: Sequence[str] = ()) -> str:
    """The CPU's identity for the cache key, from /proc/cpuinfo's text and, on aarch64, the
    cores' MIDR_EL1 registers. Each distinct line once: big.LITTLE cores all count, the number
    of cores does not."""
    machine = "aarch64" if machine == "arm64" else machine
    fields = _CPU_FIELDS.get(machine, _OTHER_CPU_FIELDS)
    lines = set()
    for line in cpuinfo.splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip() in fields:
            lines.add(f"{name.strip()}: {value.strip()}")
    lines.update(f"midr_el1: {m.strip()}" for m in midr)
    return "\n".join([machine] + sorted(lines))


def _host_cpu_id() -> str:
    machine = platform.machine()
    midr = []
    if machine in ("aarch64", "arm64"):  # where /proc/cpuinfo may lack the ID fields
        pattern = "/sys/devices/system/cpu/cpu[0-9]*/regs/identification/midr_el1"
        midr = [text for text in map(_read, sorted(glob.glob(pattern))) if text]
    return cpu_id(_read("/proc/cpuinfo") or "", machine, midr)


def _cache_dir() -> str:
    return os.environ.get("DDPG_NATIVE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "ddpg-mindspore")


def _timeout() -> float:
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value > 0 or math.isinf(value):
        raise UserError(f"{TIMEOUT_ENV} must be a positive number of seconds, not {text!r}")
    return value


def mindspore_lib_dir() -> str:
    """The wheel's lib directory: oneDNN comes from there, and the library's RUNPATH names it."""
    import mindspore
    return os.path.realpath(os.path.join(os.path.dirname(mindspore.__file__), "lib"))


class _Plan(NamedTuple):
    compiler: str  # resolved path
    lib_dir: str
    path: str  # where the library for all of this is cached


def _plan(timeout: float) -> _Plan:
    if platform.system() != "Linux":
        raise NativeUnavailable("the native learner is built for Linux only")
    import mindspore
    lib_dir = mindspore_lib_dir()
    if not os.path.exists(os.path.join(lib_dir, DNNL)):
        raise NativeUnavailable(f"this MindSpore wheel has no {DNNL} in {lib_dir}")
    cxx = os.environ.get("CXX", "g++")
    compiler = shutil.which(cxx)
    if compiler is None:
        raise NativeUnavailable(f"no C++ compiler ({cxx}) on PATH")
    compiler = os.path.abspath(compiler)
    code, out, err = _run([compiler, "--version"], timeout, f"{cxx} --version")
    if code != 0:
        raise NativeUnavailable(f"{cxx} --version failed: {_first_line(err or out)}")
    version = _first_line(out)
    source = _read_source()
    parts = [source, " ".join(FLAGS), compiler, version, mindspore.__version__, lib_dir,
             _host_cpu_id(), f"layout {read_layout_version(source)}"]
    key = hashlib.sha256(b"\0".join(p if isinstance(p, bytes) else p.encode() for p in parts))
    path = os.path.join(_cache_dir(), f"ddpg_update-{key.hexdigest()[:16]}.so")
    return _Plan(compiler, lib_dir, path)


def library_file() -> str:
    """Where this host's build of the kernel is (or would be) cached; builds nothing."""
    return _plan(_timeout()).path


# ----------------------------------------------------------------------------- build and load

def _first_line(text: str, prefer: str = "") -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if prefer:
        lines = [line for line in lines if prefer in line] or lines
    return lines[0][:300] if lines else "no output"


def _run(cmd: List[str], timeout: float, what: str) -> Tuple[int, str, str]:
    """(exit status, stdout, stderr) of `cmd`. Its own process group, so that a timeout also
    ends what it started (g++ runs cc1plus and ld): a hung compiler is a NativeUnavailable."""
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                errors="replace", start_new_session=True)
    except OSError as exc:
        raise NativeUnavailable(f"cannot run {what}: {exc.strerror}") from exc
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        proc.communicate()
        raise NativeUnavailable(f"{what} did not finish in {timeout:g} s "
                                f"(${TIMEOUT_ENV} sets the limit)") from None
    except BaseException:
        _kill_group(proc)
        proc.wait()
        raise
    return proc.returncode, out, err


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# Run by the child that tries a library first: ctypes loads it with RTLD_NOW, so a missing
# libstdc++ symbol version fails here too, not at the first update.
_PROBE = ("import ctypes, sys\n"
          "lib = ctypes.CDLL(sys.argv[1])\n"
          "for name in sys.argv[2:]:\n"
          "    getattr(lib, name)\n")
# (path, inode, mtime, size) of the libraries this process has loaded.
_loaded = set()


def _identity(path: str) -> Tuple[str, int, int, int]:
    st = os.stat(path)
    return path, st.st_ino, st.st_mtime_ns, st.st_size


def _probe(path: str, timeout: float) -> str:
    """Why the library at `path` cannot be used, or "" when a child process loads it and finds
    SYMBOLS in it. A child, since a truncated library kills the process that maps it."""
    try:
        if _identity(path) in _loaded:
            return ""
    except OSError as exc:
        return exc.strerror or str(exc)
    code, _, err = _run([sys.executable, "-I", "-S", "-c", _PROBE, path, *SYMBOLS], timeout,
                        f"loading {path}")
    if code < 0:
        return f"loading it killed the process ({signal.Signals(-code).name})"
    if code != 0:
        lines = err.strip().splitlines()
        return lines[-1][:300] if lines else f"exit status {code}"
    return ""


def _load(path: str) -> None:
    """Loads the library into this process (where MindSpore will find it loaded) after the
    child did, and checks SYMBOLS again."""
    try:
        identity = _identity(path)
        lib = ctypes.CDLL(path)
        for name in SYMBOLS:
            getattr(lib, name)
    except (OSError, AttributeError) as exc:
        raise NativeUnavailable(f"the kernel at {path} does not load: {_first_line(str(exc))}")
    _loaded.add(identity)


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass  # gone already (another process), or read-only: loading it then says why


def _build(plan: _Plan, timeout: float) -> None:
    """Compiles the kernel to a temporary file, tries it, and renames it to plan.path."""
    out_dir = os.path.dirname(plan.path)
    try:
        os.makedirs(out_dir, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=".so", dir=out_dir)
        os.close(fd)
    except OSError as exc:
        raise NativeUnavailable(f"cannot write the kernel to {out_dir}: {exc.strerror}") from exc
    name = os.path.basename(plan.compiler)
    cmd = [plan.compiler, *FLAGS, SOURCE, "-o", tmp, f"-L{plan.lib_dir}", f"-l:{DNNL}",
           f"-Wl,-rpath,{plan.lib_dir}"]
    try:
        code, out, err = _run(cmd, timeout, f"{name} building {SOURCE}")
        if code != 0:
            raise NativeUnavailable(f"{name} failed to build {SOURCE}: "
                                    f"{_first_line(err or out, prefer='error')}")
        problem = _probe(tmp, timeout)
        if problem:
            raise NativeUnavailable(f"the kernel {name} built does not load: {problem}")
        os.replace(tmp, plan.path)  # atomic: readers see no file or the whole library
    finally:
        _remove(tmp)


def library_path() -> str:
    """The path of the compiled kernel, loaded and checked, building it first if needed (raises
    NativeUnavailable with a one-line reason)."""
    timeout = _timeout()
    plan = _plan(timeout)
    if os.path.exists(plan.path) and _probe(plan.path, timeout):
        # Truncated, or built against another libstdc++ (a home directory shared between
        # systems): build it once more.
        _remove(plan.path)
    if not os.path.exists(plan.path):  # (or another process has just built it)
        _build(plan, timeout)
    _load(plan.path)
    return plan.path


# ---------------------------------------------------------------------------------- threads

def _cgroup_dirs(base: str, cgroup: str) -> List[str]:
    """The process's cgroup directory under the mount `base` and its ancestors up to `base`:
    a quota on any of them applies. Without a cgroup namespace a container sees its host-side
    path, which does not exist under its own mount, and `base` is then its cgroup."""
    parts = [p for p in cgroup.strip("/").split("/") if p]
    if not os.path.isdir(os.path.join(base, *parts)):
        return [base]
    return [os.path.join(base, *parts[:i]) for i in range(len(parts), -1, -1)]


def _quota_cpus(quota: str, period: str) -> Optional[int]:
    try:
        q, p = int(quota), int(period)
    except ValueError:
        return None  # "max" (v2) or garbage
    if q <= 0 or p <= 0:
        return None  # -1: no quota (v1)
    return max(1, -(-q // p))


def cgroup_cpu_limit(root: str = "/") -> Optional[int]:
    """CPUs the process's cgroups allow (CFS quota / period rounded up, the smallest over the
    cgroup and its ancestors), or None without a quota: docker --cpus and Kubernetes CPU
    limits set this, while sched_getaffinity still shows every core of the host."""
    text = _read(os.path.join(root, "proc/self/cgroup"))
    if text is None:
        return None
    fs = os.path.join(root, "sys/fs/cgroup")
    limits = []
    for line in text.splitlines():
        hierarchy, _, rest = line.partition(":")
        controllers, _, cgroup = rest.partition(":")
        if hierarchy == "0" and controllers == "":  # v2, or v2's part of a hybrid setup
            for base in (fs, os.path.join(fs, "unified")):
                for d in _cgroup_dirs(base, cgroup):
                    fields = (_read(os.path.join(d, "cpu.max")) or "").split()
                    if len(fields) == 2:
                        limits.append(_quota_cpus(*fields))
        elif "cpu" in controllers.split(","):  # v1
            for base in dict.fromkeys((os.path.join(fs, controllers), os.path.join(fs, "cpu"))):
                for d in _cgroup_dirs(base, cgroup):
                    quota = _read(os.path.join(d, "cpu.cfs_quota_us"))
                    period = _read(os.path.join(d, "cpu.cfs_period_us"))
                    if quota is not None and period is not None:
                        limits.append(_quota_cpus(quota, period))
    found = [n for n in limits if n is not None]
    return min(found) if found else None


def usable_threads(environ: Mapping[str, str] = os.environ, root: str = "/",
                   cores: Optional[int] = None) -> int:
    """Threads for the kernel's pool: $DDPG_NATIVE_THREADS if set, else the cores this process
    may run on (sched_getaffinity, or `cores`), the cgroup's CPU quota and MAX_THREADS, whichever
    is smallest. A pool wider than the quota spins its threads against the quota."""
    text = environ.get(THREADS_ENV, "").strip()
    if text:
        if not re.fullmatch(r"[0-9]+", text) or not 1 <= int(text) <= 256:
            raise UserError(f"{THREADS_ENV} must be a whole number from 1 to 256, not {text!r}")
        return int(text)
    if cores is None:
        cores = len(os.sched_getaffinity(0))
    limit = cgroup_cpu_limit(root)
    return max(1, min(cores, MAX_THREADS, limit if limit is not None else cores))
