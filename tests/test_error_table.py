"""Runs every row of README.md's error table: one `error:` line on stderr, exit status 2."""
import os
import re
import shlex
import shutil

import pytest

from conftest import ROOT, TINY, backend_available, run_cli


def _rows():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    section = text.split("## [Errors](#contents)", 1)[1].split("\n\n# ", 1)[0]
    rows = re.findall(r"^\| ([^|`]+) \| `([^`]+)` \| `([^`]+)` \|$", section, re.M)
    assert len(rows) >= 25, "the README error table was not found"
    return rows


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """The files the table's commands refer to."""
    d = tmp_path_factory.mktemp("errors")
    pairs = dict(zip(TINY[::2], TINY[1::2]), **{"--n_epochs": "1"})
    (d / "tiny.yaml").write_text("".join(f"{k[2:]}: {v}\n" for k, v in pairs.items()))
    res = run_cli("train.py", "--config_path", "tiny.yaml", "--output_dir", "run", cwd=d)
    assert res.returncode == 0, res.stderr
    shutil.copy(d / "run" / "ddpg_actortarget.ckpt", d / "actor.ckpt")
    data = (d / "actor.ckpt").read_bytes()
    (d / "cut.ckpt").write_bytes(data[: len(data) // 2])
    (d / "empty.ckpt").write_bytes(b"")
    (d / "typo.yaml").write_text("disount: 0.9\n")
    (d / "broken.yaml").write_text("seed: [1\n")
    (d / "a_file").write_text("not a directory, not a checkpoint\n")
    return d


@pytest.mark.parametrize("what, command, message", _rows(), ids=lambda x: x[:40])
def test_error_table_row(workdir, what, command, message):
    argv = shlex.split(command)
    assert argv[0] == "python"
    if "--device_target" in argv:  # a refusal of a backend that is missing on this host only
        target = argv[argv.index("--device_target") + 1]
        if backend_available(target):
            pytest.skip(f"{target} is available here")
    res = run_cli(*argv[1:], cwd=workdir)
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 2, (what, res.stdout[-500:], res.stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith(message), (what, lines)
