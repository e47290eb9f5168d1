"""The record of a training run: garage's table on stdout after every epoch, the same rows in
<output_dir>/progress.csv, the tqdm bar, and learning_curve.png at the end.
"""
import csv
import os
import sys
from typing import Dict, List, Optional

import numpy as np

from src.plotting import plot_curves

COLUMNS = ["Epoch", "TotalEnvSteps", "Evaluation/AverageReturn", "Evaluation/StdReturn",
           "Evaluation/MaxReturn", "Evaluation/MinReturn", "Evaluation/AverageDiscountedReturn",
           "QFunction/AverageQ", "QFunction/MaxQ", "QFunction/AverageY",
           "QFunction/AverageQFunctionLoss", "Policy/AveragePolicyLoss",
           "Exploration/AverageReturn", "Exploration/Episodes", "EnvStepsPerSecond", "WallTime"]


def epoch_row(epoch: int, total_env_steps: int, evaluation: Dict[str, List[float]],
              stats: Dict[str, float], explored: List[float], steps_per_second: float,
              wall: float) -> Dict[str, float]:
    """One row of the table from an epoch's evaluation episodes, learner statistics and
    finished training episodes."""
    returns = np.asarray(evaluation["returns"])
    return {"Epoch": epoch, "TotalEnvSteps": total_env_steps,
            "Evaluation/AverageReturn": float(returns.mean()),
            "Evaluation/StdReturn": float(returns.std()),
            "Evaluation/MaxReturn": float(returns.max()),
            "Evaluation/MinReturn": float(returns.min()),
            "Evaluation/AverageDiscountedReturn":
                float(np.mean(evaluation["discounted_returns"])),
            "QFunction/AverageQ": stats["AverageQ"], "QFunction/MaxQ": stats["MaxQ"],
            "QFunction/AverageY": stats["AverageY"],
            "QFunction/AverageQFunctionLoss": stats["AverageQFunctionLoss"],
            "Policy/AveragePolicyLoss": stats["AveragePolicyLoss"],
            "Exploration/AverageReturn": float(np.mean(explored)) if explored else np.nan,
            "Exploration/Episodes": len(explored),
            "EnvStepsPerSecond": float(steps_per_second), "WallTime": float(wall)}


def format_table(row: Dict[str, float]) -> str:
    width = max(len(k) for k in row)
    lines = ["-" * (width + 16)]
    for k, v in row.items():
        text = f"{v:.4f}" if isinstance(v, float) else str(v)
        lines.append(f"{k:<{width}}  {text:>12}")
    lines.append("-" * (width + 16))
    return "\n".join(lines)


class ProgressLog:
    """Writes a run's rows. Disabled (on workers other than rank 0) it writes nothing.

    progress.csv is rewritten from `rows` (the rows of the state a run resumed from), so rows
    of epochs after that state are dropped.
    """

    def __init__(self, output_dir: str, env_id: str, algorithm: str, rows: List[Dict[str, float]],
                 enabled: bool, progress_bar: bool, total_steps: int, done_steps: int):
        self.output_dir, self.env_id, self.rows, self.enabled = output_dir, env_id, rows, enabled
        self.algorithm = algorithm  # for the curve's title: "DDPG", "TD3", ...
        self.bar = _progress_bar(total_steps, done_steps) if enabled and progress_bar else None
        self.csv_file: Optional[object] = None
        if enabled:
            self.csv_file = open(os.path.join(output_dir, "progress.csv"), "w", newline="",
                                 encoding="utf-8")
            self.writer = csv.DictWriter(self.csv_file, fieldnames=COLUMNS)
            self.writer.writeheader()
            self.writer.writerows(rows)
            self.csv_file.flush()  # a resumed run's file is whole before its next epoch ends

    def advance(self, env_steps: int) -> None:
        if self.bar is not None:
            self.bar.update(env_steps)

    def say(self, text: str) -> None:
        """Prints a line without breaking the progress bar."""
        if self.enabled:
            (self.bar.write if self.bar is not None else print)(text)

    def add(self, row: Dict[str, float]) -> None:
        self.rows.append(row)
        if self.enabled:
            self.writer.writerow(row)
            self.csv_file.flush()
            self.say(format_table(row))

    def draw_curve(self) -> None:
        if self.enabled:
            plot_curves({self.env_id: [self.rows]},
                        os.path.join(self.output_dir, "learning_curve.png"),
                        f"{self.algorithm} on {self.env_id}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.csv_file is not None:
            self.csv_file.close()
            self.csv_file = None


def _progress_bar(total: int, done: int):
    from tqdm import tqdm
    return tqdm(total=total, initial=done, unit="step", file=sys.stderr, dynamic_ncols=True)
