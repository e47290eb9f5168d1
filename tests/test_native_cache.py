"""The native kernel's build cache and thread count (src/native.py): a cached library is used
only once it loads, a compiler that fails, hangs or builds junk sends `auto` to the graph backend
with one warning, everything the binary depends on is in the cache key, and the kernel's pool is
no wider than the cgroup's CPU quota."""
import ctypes
import os
import time

import pytest

from conftest import TINY, run_cli
from src import native
from src.errors import UserError
from src.learner import choose_backend

TIMEOUT_ENV = "DDPG_NATIVE_BUILD_TIMEOUT"
THREADS_ENV = "DDPG_NATIVE_THREADS"


@pytest.fixture
def real_cxx(monkeypatch):
    monkeypatch.delenv("CXX", raising=False)
    monkeypatch.delenv(TIMEOUT_ENV, raising=False)


def _fake_cxx(directory, body: str, version: str = "fake-c++ 1.0") -> str:
    """An executable shell script at directory/fake-cxx that answers --version with `version`
    and runs `body` for anything else."""
    path = os.path.join(directory, "fake-cxx")
    with open(path, "w") as f:
        f.write(f'#!/bin/sh\nif [ "$1" = --version ]; then echo "{version}"; exit 0; fi\n{body}\n')
    os.chmod(path, 0o755)
    return path


def _replace(path: str, data: bytes) -> None:
    """Puts `data` at `path` as a new file: this process may have the old one mapped, and
    truncating a mapped library in place would crash it."""
    with open(path + ".new", "wb") as f:
        f.write(data)
    os.replace(path + ".new", path)


def test_corrupt_cached_library_is_rebuilt_and_loads(monkeypatch, tmp_path, real_cxx):
    """The only test here that really builds (three times: 5-40 s each)."""
    monkeypatch.setenv("DDPG_NATIVE_CACHE", str(tmp_path))
    path = native.library_path()
    with open(path, "rb") as f:
        good = f.read()
    assert good[:4] == b"\x7fELF" and len(good) > 10_000
    # Half a library maps, and kills the process that touches its missing pages (SIGBUS);
    # garbage does not map.
    for corrupt in (good[:len(good) // 2], b"\x7fELF" + b"not a library" * 50):
        _replace(path, corrupt)
        assert native.library_path() == path
        assert os.path.getsize(path) > len(good) // 2
        lib = ctypes.CDLL(path)
        assert getattr(lib, "DDPGUpdate") and getattr(lib, "DDPGUpdateThreads")
    assert sorted(os.listdir(tmp_path)) == [os.path.basename(path)]  # no temporary files


def _assert_falls_back_or_refuses(why: str) -> None:
    """auto: graph and a one-line warning saying `why`; explicit native: a one-line error."""
    backend, library, note = choose_backend("auto", "CPU", False)
    assert (backend, library) == ("graph", "")
    assert note.startswith("warning: native learner not used") and why in note, note
    assert "\n" not in note
    with pytest.raises(UserError, match=why) as refused:
        choose_backend("native", "CPU", False)
    assert "\n" not in str(refused.value)


def test_failing_compiler_falls_back_with_one_warning(monkeypatch, tmp_path):
    cxx = _fake_cxx(tmp_path, 'echo "fake-cxx: error: cannot compile today" >&2\nexit 1')
    monkeypatch.setenv("CXX", cxx)
    monkeypatch.setenv("DDPG_NATIVE_CACHE", str(tmp_path / "cache"))
    _assert_falls_back_or_refuses("error: cannot compile today")


def test_library_that_does_not_load_falls_back_and_is_not_cached(monkeypatch, tmp_path):
    # Exits 0 but writes junk where the library should be.
    cxx = _fake_cxx(tmp_path, 'while [ $# -gt 0 ]; do\n'
                              '  if [ "$1" = -o ]; then echo junk > "$2"; fi; shift\n'
                              'done\nexit 0')
    monkeypatch.setenv("CXX", cxx)
    cache = tmp_path / "cache"
    monkeypatch.setenv("DDPG_NATIVE_CACHE", str(cache))
    _assert_falls_back_or_refuses("does not load")
    assert os.listdir(cache) == []


@pytest.mark.parametrize("hangs_on", ["build", "--version"])
def test_hung_compiler_falls_back_within_the_timeout(monkeypatch, tmp_path, hangs_on):
    body = "sleep 20\nexit 0"  # after the timeout, exit 0 would pass an empty file as a build
    cxx = (_fake_cxx(tmp_path, body) if hangs_on == "build"
           else _fake_cxx(tmp_path, body, version='$(sleep 20)'))
    monkeypatch.setenv("CXX", cxx)
    monkeypatch.setenv("DDPG_NATIVE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv(TIMEOUT_ENV, "1")
    start = time.monotonic()
    _assert_falls_back_or_refuses("did not finish in 1 s")
    # Both calls ended at the timeout: the script's `sleep` child (which holds the output
    # pipes) was killed with it.
    assert time.monotonic() - start < 15


def test_bad_timeout_setting_is_a_user_error(monkeypatch):
    monkeypatch.setenv(TIMEOUT_ENV, "soon")
    with pytest.raises(UserError, match=TIMEOUT_ENV):
        choose_backend("auto", "CPU", False)


def test_key_follows_compiler_version_lib_dir_and_layout(monkeypatch, tmp_path, real_cxx):
    monkeypatch.setenv("DDPG_NATIVE_CACHE", str(tmp_path))
    real = native.library_file()
    # The same compiler path, answering --version differently (an upgrade in place).
    monkeypatch.setenv("CXX", _fake_cxx(tmp_path, 'exec g++ "$@"', version="g++ (fake) 12.2.0"))
    old_version = native.library_file()
    monkeypatch.setenv("CXX", _fake_cxx(tmp_path, 'exec g++ "$@"', version="g++ (fake) 13.1.0"))
    new_version = native.library_file()
    assert len({real, old_version, new_version}) == 3
    monkeypatch.delenv("CXX")
    assert native.library_file() == real
    # Another MindSpore lib directory (the library's RUNPATH points at it).
    lib_dir = tmp_path / "other-mindspore-lib"
    lib_dir.mkdir()
    (lib_dir / native.DNNL).symlink_to(os.path.join(native.mindspore_lib_dir(), native.DNNL))
    real_lib_dir = native.mindspore_lib_dir
    monkeypatch.setattr(native, "mindspore_lib_dir", lambda: str(lib_dir))
    assert native.library_file() != real
    monkeypatch.setattr(native, "mindspore_lib_dir", real_lib_dir)
    assert native.library_file() == real
    monkeypatch.setattr(native, "read_layout_version", lambda source: native.LAYOUT_VERSION + 1)
    assert native.library_file() != real


def test_layout_version_comes_from_the_source():
    with open(native.SOURCE, "rb") as f:
        source = f.read()
    assert native.LAYOUT_VERSION == native.read_layout_version(source) >= 1
    assert native.read_layout_version(b"int x;\nconstexpr int kLayoutVersion = 17;\n") == 17
    with pytest.raises(native.NativeUnavailable, match="kLayoutVersion"):
        native.read_layout_version(b"// constexpr int kLayoutVersion = 3;\nint x;\n")


AARCH64_CORE = """processor\t: {n}
BogoMIPS\t: 50.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x3
CPU part\t: {part}
CPU revision\t: 1
"""


def _aarch64(parts):
    return "\n".join(AARCH64_CORE.format(n=n, part=p) for n, p in enumerate(parts))


def test_aarch64_cores_have_their_own_ids():
    neoverse_n1 = native.cpu_id(_aarch64(["0xd0c"] * 2), "aarch64")
    assert native.cpu_id(_aarch64(["0xd40"] * 2), "aarch64") != neoverse_n1  # Neoverse V1
    assert "CPU part: 0xd0c" in neoverse_n1 and "Features: fp asimd" in neoverse_n1
    assert native.cpu_id(_aarch64(["0xd0c"] * 8), "aarch64") == neoverse_n1  # more cores
    assert native.cpu_id(_aarch64(["0xd0c", "0xd05"]), "aarch64") != neoverse_n1  # big.LITTLE
    # Kernels whose cpuinfo lacks the ID fields: the MIDR_EL1 registers tell the cores apart.
    bare = "processor\t: 0\nFeatures\t: fp asimd\n"
    assert (native.cpu_id(bare, "aarch64", ["0x00000000413fd0c1"])
            != native.cpu_id(bare, "aarch64", ["0x00000000414fd0b1"]))


def test_x86_id_is_model_and_flags():
    core = "processor\t: {n}\nmodel name\t: {model}\ncpu MHz\t\t: {mhz}\nflags\t\t: fpu sse avx2\n"
    a = native.cpu_id(core.format(n=0, model="AMD EPYC", mhz=2400.1), "x86_64")
    assert a == native.cpu_id(core.format(n=3, model="AMD EPYC", mhz=3100.7), "x86_64")
    assert a != native.cpu_id(core.format(n=0, model="Intel Xeon", mhz=2400.1), "x86_64")


def _cgroup_root(tmp_path, proc_self_cgroup: str, files: dict) -> str:
    """A fake root with /proc/self/cgroup and the cgroup files {relative path: text}."""
    root = tmp_path / "root"
    (root / "proc" / "self").mkdir(parents=True)
    (root / "proc" / "self" / "cgroup").write_text(proc_self_cgroup)
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text + "\n")
    return str(root)


@pytest.mark.parametrize("cpu_max, threads", [("50000 100000", 1), ("150000 100000", 2),
                                              ("100000 100000", 1), ("max 100000", 4)])
def test_threads_follow_the_cgroup_v2_quota(tmp_path, cpu_max, threads):
    root = _cgroup_root(tmp_path, "0::/\n", {"sys/fs/cgroup/cpu.max": cpu_max})
    assert native.usable_threads({}, root, cores=4) == threads


def test_threads_take_the_smallest_quota_of_the_cgroup_and_its_parents(tmp_path):
    pod = "sys/fs/cgroup/kubepods/pod1"
    root = _cgroup_root(tmp_path, "0::/kubepods/pod1/ctr\n",
                        {"sys/fs/cgroup/cpu.max": "max 100000",
                         f"{pod}/cpu.max": "250000 100000",
                         f"{pod}/ctr/cpu.max": "max 100000"})
    assert native.usable_threads({}, root, cores=16) == 3
    assert native.usable_threads({}, _cgroup_root(tmp_path / "no-quota", "0::/\n", {}),
                                 cores=16) == native.MAX_THREADS


def test_threads_follow_the_cgroup_v1_quota(tmp_path):
    base = "sys/fs/cgroup/cpu,cpuacct"
    v1 = "12:pids:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n"
    root = _cgroup_root(tmp_path, v1, {f"{base}/docker/abc/cpu.cfs_quota_us": "50000",
                                       f"{base}/docker/abc/cpu.cfs_period_us": "100000",
                                       f"{base}/cpu.cfs_quota_us": "-1",
                                       f"{base}/cpu.cfs_period_us": "100000"})
    assert native.usable_threads({}, root, cores=8) == 1
    # No cgroup namespace: the host-side path is absent and the mount is the cgroup itself.
    root = _cgroup_root(tmp_path / "no-ns", v1, {f"{base}/cpu.cfs_quota_us": "200000",
                                                 f"{base}/cpu.cfs_period_us": "100000"})
    assert native.usable_threads({}, root, cores=8) == 2
    root = _cgroup_root(tmp_path / "unlimited", v1, {f"{base}/cpu.cfs_quota_us": "-1",
                                                     f"{base}/cpu.cfs_period_us": "100000"})
    assert native.usable_threads({}, root, cores=3) == 3


def test_threads_setting_overrides_and_is_checked(tmp_path):
    root = _cgroup_root(tmp_path, "0::/\n", {"sys/fs/cgroup/cpu.max": "50000 100000"})
    assert native.usable_threads({THREADS_ENV: "3"}, root, cores=2) == 3
    assert native.usable_threads({THREADS_ENV: " "}, root, cores=2) == 1
    for bad in ("0", "-2", "two", "1.5", "100000"):
        with pytest.raises(UserError, match=THREADS_ENV):
            native.usable_threads({THREADS_ENV: bad}, root, cores=2)


def test_threads_on_this_host():
    threads = native.usable_threads({})
    assert 1 <= threads <= min(len(os.sched_getaffinity(0)), native.MAX_THREADS)


def test_train_prints_one_warning_and_runs_on_graph(tmp_path):
    cxx = _fake_cxx(tmp_path, 'echo "fake-cxx: error: cannot compile today" >&2\nexit 1')
    env = {"CXX": cxx, "DDPG_NATIVE_CACHE": str(tmp_path / "cache")}
    res = run_cli("train.py", "--output_dir", str(tmp_path / "run"), *TINY, "--n_epochs", "1",
                  env_extra=env)
    assert res.returncode == 0, res.stderr
    lines = [line for line in res.stderr.splitlines() if "native learner" in line]
    assert len(lines) == 1 and lines[0].startswith("warning: native learner not used"), lines
    assert "learner backend: graph\n" in res.stdout
    res = run_cli("train.py", "--output_dir", str(tmp_path / "refused"), *TINY,
                  "--learner_backend", "native", env_extra=env)
    assert res.returncode == 2
    assert res.stderr.strip().splitlines()[-1].startswith("error: learner_backend native")
    assert "Traceback" not in res.stderr
