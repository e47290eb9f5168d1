"""Runs every row of the error table in benchmarks/RESULTS.md: one `error:` line on stderr, exit
status 2. README.md's shorter table must be rows of that one, so every row a reader sees is run."""
import os
import re
import shlex
import shutil

import pytest

from conftest import ROOT, TINY, backend_available, run_cli

ROW = re.compile(r"^\| ([^|`]+) \| `([^`]+)` \| `([^`]+)` \|$", re.M)


def _section_rows(path: str, heading: str, end: str):
    """The (what, command, message) rows of the table under `heading`, up to `end`."""
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        text = f.read()
    assert heading in text, f"{path}: heading {heading!r} not found"
    return ROW.findall(text.split(heading, 1)[1].split(end, 1)[0])


def _rows():
    rows = _section_rows("benchmarks/RESULTS.md", "\n## Error messages\n", "\n## ")
    assert len(rows) >= 25, "the full error table in benchmarks/RESULTS.md was not found"
    return rows


def test_readme_rows_are_in_the_full_table():
    """The README's table is a selection of the tested one, message for message."""
    full = {(cmd, msg) for _, cmd, msg in _rows()}
    for path, heading in (("README.md", "## [Errors](#contents)"),
                          ("README_CN.md", "## [错误信息](#目录)")):
        shown = _section_rows(path, heading, "\n# ")
        assert len(shown) >= 3, f"{path}: the error table under {heading!r} was not found"
        missing = [cmd for _, cmd, msg in shown if (cmd, msg) not in full]
        assert not missing, f"{path}: rows not in benchmarks/RESULTS.md's error table: {missing}"


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
