"""MINDIR and ONNX exports give the Cell's outputs; AIR is refused off Ascend."""
import os

import numpy as np
import mindspore as ms
from mindspore import nn

from conftest import run_cli
from src.checkpoint import load_actor


def _obs():
    return np.random.default_rng(0).standard_normal((1, 3)).astype(np.float32) * 3


def test_mindir_parity(trained_dir, tmp_path, pendulum_spec):
    ckpt = str(trained_dir / "ddpg_actortarget.ckpt")
    res = run_cli("export.py", "--ckpt_file", ckpt, "--file_name", str(tmp_path / "actor"),
                  "--file_format", "MINDIR")
    assert res.returncode == 0, res.stderr
    path = tmp_path / "actor.mindir"
    assert path.is_file() and str(path) in res.stdout
    graph = nn.GraphCell(ms.load(str(path)))
    cell = load_actor(ckpt, pendulum_spec)
    for _ in range(3):
        obs = _obs()
        np.testing.assert_allclose(graph(ms.Tensor(obs)).asnumpy(), cell(ms.Tensor(obs)).asnumpy(),
                                   rtol=1e-5, atol=1e-6)


def test_onnx_parity(trained_dir, tmp_path, pendulum_spec):
    import onnxruntime as ort
    ckpt = str(trained_dir / "ddpg_actortarget.ckpt")
    # file_name may carry the extension: it is not doubled.
    res = run_cli("export.py", "--ckpt_file", ckpt, "--file_name", str(tmp_path / "pi.onnx"),
                  "--file_format", "ONNX")
    assert res.returncode == 0, res.stderr
    assert os.listdir(tmp_path) == ["pi.onnx"]
    sess = ort.InferenceSession(str(tmp_path / "pi.onnx"), providers=["CPUExecutionProvider"])
    cell = load_actor(ckpt, pendulum_spec)
    obs = _obs()
    out = sess.run(None, {sess.get_inputs()[0].name: obs})[0]
    np.testing.assert_allclose(out, cell(ms.Tensor(obs)).asnumpy(), rtol=1e-5, atol=1e-6)


def test_air_refused_off_ascend(trained_dir, tmp_path):
    res = run_cli("export.py", "--ckpt_file", str(trained_dir / "ddpg_actortarget.ckpt"),
                  "--file_name", str(tmp_path / "a"), "--file_format", "AIR")
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        "error: file_format AIR needs an Ascend backend (device_target is CPU); "
        "use MINDIR or ONNX here"]
    assert not list(tmp_path.iterdir())
