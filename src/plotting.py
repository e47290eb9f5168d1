"""Learning curves from progress.csv rows: one curve per group of runs (mean +- std over seeds)."""
import csv
from typing import Dict, List

import numpy as np

from src.errors import UserError

X = "TotalEnvSteps"
Y = "Evaluation/AverageReturn"


def read_rows(path: str) -> List[Dict[str, float]]:
    """The rows of a progress.csv file, as floats."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = [{k: float(v) for k, v in row.items() if v not in ("", None)}
                    for row in csv.DictReader(f)]
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read {path}: {exc}") from None
    if not rows or X not in rows[0]:
        raise UserError(f"{path} is not a progress.csv written by train.py")
    return rows


def plot_curves(groups: Dict[str, List[List[Dict[str, float]]]], path: str, title: str,
                metric: str = Y, every_seed: bool = False) -> int:
    """Draws each group's mean of `metric` against env steps, shading +- one std across its
    runs (or, for a single run, the spread of its evaluation episodes when metric is the
    average return); with `every_seed`, also each run as a thin line of its group's colour,
    so that no seed hides in a mean. Runs of a group are cut to the shortest. Returns the
    number of lines drawn."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, runs in groups.items():
        n = min(len(r) for r in runs)
        steps = np.array([row[X] for row in runs[0][:n]])
        try:
            values = np.array([[row[metric] for row in r[:n]] for r in runs])
        except KeyError:
            raise UserError(f"metric '{metric}' is not a column of the progress files") from None
        mean = values.mean(axis=0)
        if len(runs) > 1:
            spread = values.std(axis=0)
            label = f"{label} ({len(runs)} runs)"
        elif metric == Y:
            spread = np.array([row.get("Evaluation/StdReturn", 0.0) for row in runs[0][:n]])
        else:
            spread = np.zeros(n)
        line, = ax.plot(steps, mean, marker="o", markersize=3, label=label)
        ax.fill_between(steps, mean - spread, mean + spread, alpha=0.2)
        if every_seed and len(runs) > 1:
            for run in values:
                ax.plot(steps, run, color=line.get_color(), linewidth=0.7, alpha=0.6)
    ax.set_xlabel("environment steps")
    ax.set_ylabel(metric)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    lines = len(ax.get_lines())
    plt.close(fig)
    return lines
