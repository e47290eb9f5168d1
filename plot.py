"""Draw learning curves from one or several runs' progress.csv files.

    python plot.py [LABEL=]RUNS [[LABEL=]RUNS ...] [--out curves.png] [--metric COLUMN]
        [--every_seed]

RUNS is a run directory, a progress.csv file, or a glob of them (quote it); the runs one
argument matches are seeds of one curve, drawn as their mean +- one standard deviation
(--every_seed: and each seed as a thin line).
Example: python plot.py "default=output/seed_*" "paper=paper/seed_*" --out pendulum.png
"""
import argparse
import glob
import os
import sys

from src.errors import UserError, run_cli
from src.plotting import Y, plot_curves, read_rows


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and exit status 2, like every other entry point
        raise UserError(message)


def main(argv) -> int:
    parser = _Parser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="[LABEL=]run dir, progress.csv or glob")
    parser.add_argument("--out", default="curves.png", help="PNG file to write")
    parser.add_argument("--metric", default=Y, help="progress.csv column to plot")
    parser.add_argument("--title", default="DDPG learning curves")
    parser.add_argument("--every_seed", action="store_true",
                        help="also draw each run of a group as a thin line")
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    args = parser.parse_args(argv)
    groups = {}
    for spec in args.runs:
        label, pattern = spec.split("=", 1) if "=" in spec else (spec, spec)
        files = []
        for match in sorted(glob.glob(pattern)):
            path = os.path.join(match, "progress.csv") if os.path.isdir(match) else match
            if path.endswith(".csv") and os.path.isfile(path):
                files.append(path)
        if not files:
            raise UserError(f"no progress.csv found for '{pattern}'")
        groups[label] = [read_rows(f) for f in files]
    out_dir = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(out_dir):
        raise UserError(f"directory of --out does not exist: {out_dir}")
    plot_curves(groups, args.out, args.title, args.metric, args.every_seed)
    print(f"wrote {args.out} ({', '.join(f'{k}: {len(v)} runs' for k, v in groups.items())})")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main, sys.argv[1:]))
