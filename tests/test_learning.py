"""Learning check (Tianshou style): a short Pendulum-v1 run must clearly beat a random policy."""
import csv

import numpy as np

from conftest import run_cli
from src.environment import make_env
from src.evaluation import run_episodes

SHORT_RUN = ["--n_epochs", "5", "--steps_per_epoch", "10", "--env_steps_per_cycle", "100",
             "--n_train_steps", "100", "--policy_hidden_sizes", "[64, 64]",
             "--qf_hidden_sizes", "[64, 64]", "--buffer_batch_size", "128",
             "--start_steps", "500", "--min_buffer_size", "500", "--eval_episodes", "10",
             "--progress_bar", "false", "--seed", "0"]


def test_short_pendulum_run_beats_random_policy(tmp_path):
    res = run_cli("train.py", "--output_dir", str(tmp_path), *SHORT_RUN)
    assert res.returncode == 0, res.stderr
    with open(tmp_path / "progress.csv", newline="") as f:
        final = float(list(csv.DictReader(f))[-1]["Evaluation/AverageReturn"])

    env = make_env("Pendulum-v1")
    env.action_space.seed(0)
    random_policy = run_episodes(lambda obs: env.action_space.sample()[None], env, 10, 0, 0.99)
    random_return = float(np.mean(random_policy["returns"]))
    # Random play scores about -1200 on these start states; a policy that has learned to
    # swing up and balance scores above -400. Require a margin of 500.
    assert final > random_return + 500, (final, random_return)
