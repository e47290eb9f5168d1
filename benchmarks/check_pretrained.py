"""Check every shipped agent: eval.py --pretrained NAME on all of its manifest's episodes.

    python benchmarks/check_pretrained.py [NAME ...] [--rtol 1e-4]

For each agent under pretrained/ (or the NAMEs given) prints its manifest's avgReward beside
the one eval.py gives now, and the largest per-episode difference; exits 1 when an agent's
checkpoint no longer matches its sha256 (eval.py refuses it) or an episode's return differs by
more than rtol * max(1, |manifest return|). The test suite checks the first episodes only
(tests/test_pretrained.py); this runs them all.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from make_pretrained import run_eval  # noqa: E402
from src.checkpoint import read_manifest  # noqa: E402
from src.config import pretrained_dir, pretrained_names  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="agents to check (default: all shipped)")
    parser.add_argument("--rtol", type=float, default=1e-4)
    args = parser.parse_args()
    names = args.names or pretrained_names()
    if not names:
        print("error: no agents under pretrained/", file=sys.stderr)
        return 2
    failed = 0
    print("| agent | env | algorithm | episodes | manifest avgReward | eval.py avgReward "
          "| largest episode difference |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in names:
        manifest = read_manifest(pretrained_dir(name))
        returns, avg = run_eval(["--pretrained", name])
        worst = max(abs(a - b) / max(1.0, abs(b)) for a, b in zip(returns, manifest["returns"]))
        ok = len(returns) == len(manifest["returns"]) and worst <= args.rtol
        failed += not ok
        print(f"| {name} | {manifest['env_id']} | {manifest['algorithm']} | {len(returns)} "
              f"| {manifest['avgReward']:.4f} | {avg:.4f} | {worst:.2e}{'' if ok else ' FAIL'} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
