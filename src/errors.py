"""User-facing failures: one line on stderr starting with `error:` and exit status 2."""
import sys
import traceback
from typing import Callable, Sequence


class UserError(Exception):
    """Something the user can fix (a setting, a path, a checkpoint); never a bug of ours."""


def first_line(exc: BaseException, default: str = "") -> str:
    """The first line of an exception's message (library errors are often many lines long)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else (default or type(exc).__name__)


def run_cli(main: Callable[[Sequence[str]], int], argv: Sequence[str]) -> int:
    """Runs `main(argv)`; turns a UserError into one stderr line and exit status 2.

    `--debug` anywhere in argv shows the traceback as well.
    """
    debug = "--debug" in argv
    try:
        return main(argv) or 0
    except UserError as exc:
        if debug:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
