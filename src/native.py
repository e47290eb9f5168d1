"""Builds the native update kernel (src/csrc/ddpg_update.cc) for the `native` learner backend.

The kernel is compiled on first use with the host's C++ compiler against the oneDNN library that
the MindSpore wheel ships, for this CPU (-march=native), and cached: the file name carries a hash
of the source, the flags, the MindSpore version and the CPU, so a change of any of them builds
anew and concurrent builds (msrun workers, test processes) never see a half-written library.
"""
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "csrc", "ddpg_update.cc")
ENTRY = "DDPGUpdate"
# -march=native: the library is built on, and cached for, the CPU that runs it.
# -fno-math-errno lets the compiler vectorise Adam's square roots.
FLAGS = ["-std=c++17", "-O3", "-march=native", "-fno-math-errno", "-shared", "-fPIC", "-pthread"]
DNNL = "libdnnl.so.3"


class NativeUnavailable(RuntimeError):
    """The kernel cannot be built or loaded here; the message says why in one line."""


def _cache_dir() -> str:
    return os.environ.get("DDPG_NATIVE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "ddpg-mindspore")


def _cpu_id() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return "".join(line for line in f if line.startswith(("model name", "flags")))
    except OSError:
        return platform.processor()


def library_path() -> str:
    """The path of the compiled kernel, building it first if needed (raises NativeUnavailable)."""
    if platform.system() != "Linux":
        raise NativeUnavailable("the native learner is built for Linux only")
    import mindspore
    lib_dir = os.path.join(os.path.dirname(mindspore.__file__), "lib")
    if not os.path.exists(os.path.join(lib_dir, DNNL)):
        raise NativeUnavailable(f"this MindSpore wheel has no {DNNL} in {lib_dir}")
    cxx = os.environ.get("CXX", "g++")
    if shutil.which(cxx) is None:
        raise NativeUnavailable(f"no C++ compiler ({cxx}) on PATH")
    with open(SOURCE, "rb") as f:
        source = f.read()
    key = hashlib.sha256(b"\0".join([source, " ".join(FLAGS).encode(), cxx.encode(),
                                     mindspore.__version__.encode(), _cpu_id().encode()]))
    out_dir = _cache_dir()
    path = os.path.join(out_dir, f"ddpg_update-{key.hexdigest()[:16]}.so")
    if os.path.exists(path):
        return path
    try:
        os.makedirs(out_dir, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=".so", dir=out_dir)
        os.close(fd)
    except OSError as exc:
        raise NativeUnavailable(f"cannot write the kernel to {out_dir}: {exc.strerror}") from exc
    cmd = [cxx, *FLAGS, SOURCE, "-o", tmp, f"-L{lib_dir}", f"-l:{DNNL}", f"-Wl,-rpath,{lib_dir}"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            lines = (done.stderr.strip() or "no output").splitlines()
            raise NativeUnavailable(f"{cxx} failed to build {SOURCE}: {lines[0]}")
        os.replace(tmp, path)  # atomic: readers see no file or the whole library
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path
