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


def test_mujoco_recording_uses_the_tracking_camera():
    # gymnasium's default free camera loses HalfCheetah and Ant after a few steps; the GIF test
    # below uses an untrained actor that hardly moves, so it cannot see that. Check the camera.
    import mujoco
    from src.environment import make_env
    for env_id in ("HalfCheetah-v5", "Ant-v5"):
        env = make_env(env_id, render_mode="rgb_array")
        track = mujoco.mj_name2id(env.unwrapped.model, mujoco.mjtObj.mjOBJ_CAMERA, "track")
        assert track >= 0 and env.unwrapped.mujoco_renderer.camera_id == track, env_id
        env.close()


def test_record_writes_gifs_for_pendulum_and_halfcheetah(tmp_path, trained_dir):
    from PIL import Image
    from src.checkpoint import save_cell
    from src.networks import ActorNet
    cheetah = ActorNet(17, 6, [32, 32], -np.ones(6, np.float32), np.ones(6, np.float32))
    save_cell(cheetah, str(tmp_path / "cheetah.ckpt"))
    runs = [("Pendulum-v1", str(trained_dir / "ddpg_actortarget.ckpt"), 201),
            ("HalfCheetah-v5", str(tmp_path / "cheetah.ckpt"), 41)]
    for env_id, ckpt, frames in runs:
        out = tmp_path / env_id
        res = run_cli("eval.py", "--env_id", env_id, "--ckpt_file", ckpt, "--record", str(out),
                      "--eval_episodes", "1", "--max_episode_length_eval",
                      "200" if env_id == "Pendulum-v1" else "40")
        assert res.returncode == 0, res.stderr
        gif = out / f"{env_id}_episode_0.gif"
        assert gif.stat().st_size > 10_000
        with Image.open(gif) as im:
            # Pillow merges identical consecutive frames, so a few may be folded together.
            assert 0.8 * frames <= im.n_frames <= frames and min(im.size) >= 400
            first = np.asarray(im.convert("RGB"))
            im.seek(im.n_frames - 1)
            last = np.asarray(im.convert("RGB"))
            assert first.std() > 1 and not np.array_equal(first, last)  # a picture that moves
