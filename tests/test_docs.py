"""The user documents: README.md, its Chinese mirror README_CN.md, and benchmarks/RESULTS.md.

The two READMEs must not drift apart: the same headings (level by level), the same numbers in
each section's prose, the same code blocks and the same inline commands. Every command they and
RESULTS.md show must name a script that exists and options it accepts; every relative link must
resolve; and the documents speak of the product and its measurements, not of how they were made
(no issue numbers, work sessions, "this host" or temporary scripts).
"""
import os
import re
import shlex
from collections import Counter
from typing import Dict, List, Tuple

import pytest
import yaml

from conftest import ROOT

EN, CN, RESULTS = "README.md", "README_CN.md", os.path.join("benchmarks", "RESULTS.md")
DOCS = (EN, CN, RESULTS)

# Words about how the documents were made rather than about the product (case-insensitive).
HISTORY_WORDS = (
    r"\bissues?\b",                      # "issue 11", "the targets"
    r"(?<![\w&/])#\d+\b",                # "#11"
    r"\bsessions?\b",                    # "this session", "last session's"
    r"\b(?:this|last|previous|earlier|next) rounds?\b",  # rounds of work
    r"\bthis (?:host|machine)\b",        # name the host by what it is
    r"\bour team\b",
    r"\b(?:an? |the )?(?:earlier|previous) (?:measurement|version|run)s?\b",
    r"/tmp\b",                           # temporary scripts and paths
    r"会话",                              # session
    r"(?<![基根])本机(?![制械])", r"这台(?:主机|机器)",  # this host / machine
    r"(?<!因)此(?:主机|机器)", r"本(?:主机|机器)",
    r"上一?次(?:测量|运行|会话)", r"更早(?:一次|的)(?:测量|运行)",  # earlier measurement / run
)

COMMAND_WORDS = ("python", "python3.11", "bash", "pip", "taskset", "tensorboard", "git", "printf")
ENV_ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=\S*$")
# A number in prose: thousands groups ("20,000" == "20000") or a plain/decimal number, also
# inside names ("Walker2d-v5": 2, 5); its minus sign counts where it does not join two words or
# numbers ("-128.2", "U(-3e-3": -3 and 3; "0-2": 0 and 2).
NUMBER = re.compile(r"(?<![\d,.])(-?)(\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:\.\d+)?)")
JOINED = re.compile(r"[0-9A-Za-z_.)\]]")


def read(path: str) -> str:
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def split_fences(text: str) -> Tuple[List[str], List[str]]:
    """(prose lines with every fenced block blanked out, the fenced blocks in order)."""
    prose, blocks, block = [], [], None
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            if block is None:
                block = [line.strip()]
            else:
                blocks.append("\n".join(block + [line.strip()]))
                block = None
            prose.append("")
        elif block is not None:
            block.append(line)
            prose.append("")
        else:
            prose.append(line)
    assert block is None, "an unclosed ``` fence"
    return prose, blocks


def sections(text: str) -> List[Dict]:
    """The document cut at its headings: level, title, prose and code blocks of each part (the
    part before the first heading is a section of level 0)."""
    out = [{"level": 0, "title": "(top)", "prose": [], "blocks": []}]
    prose, _ = split_fences(text)
    lines, in_fence = text.splitlines(), False
    for line, plain in zip(lines, prose):
        if line.lstrip().startswith("```"):
            if not in_fence:
                out[-1]["blocks"].append([])
            in_fence = not in_fence
            out[-1]["blocks"][-1].append(line.strip())
            continue
        if in_fence:
            out[-1]["blocks"][-1].append(line)
            continue
        m = re.match(r"^(#{1,6})\s+(.*\S)\s*$", plain)
        if m:
            out.append({"level": len(m.group(1)), "title": m.group(2), "prose": [], "blocks": []})
        out[-1]["prose"].append(plain)
    for s in out:
        s["prose"] = "\n".join(s["prose"])
        s["blocks"] = ["\n".join(b) for b in s["blocks"]]
    return out


def inline_code(prose: str) -> List[str]:
    """Inline code spans, whitespace (including a line break inside a span) collapsed."""
    return [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", prose)]


def inline_commands(prose: str) -> List[str]:
    out = []
    for span in inline_code(prose):
        words = span.split()
        if words and (words[0] in COMMAND_WORDS or ENV_ASSIGNMENT.match(words[0])):
            out.append(span)
    return out


def numbers(prose: str) -> List[str]:
    """The numbers of a section's prose, outside code and link targets, normalised."""
    text = re.sub(r"`[^`]+`", " ", prose)
    text = re.sub(r"\]\([^)]*\)", "] ", text)
    out = []
    for m in NUMBER.finditer(text):
        sign = m.group(1) if m.start() == 0 or not JOINED.match(text[m.start() - 1]) else ""
        out.append(sign + m.group(2).replace(",", ""))
    return out


def slug(title: str) -> str:
    """GitHub's anchor of a heading: link text kept, punctuation dropped, spaces to hyphens."""
    title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title).strip().lower()
    return re.sub(r"[^\w\- ]", "", title).replace(" ", "-")


def anchors(text: str) -> set:
    seen, out = Counter(), set()
    for s in sections(text)[1:]:
        base = slug(s["title"])
        out.add(base if not seen[base] else f"{base}-{seen[base]}")
        seen[base] += 1
    return out


def describe(s: Dict) -> str:
    return f"'{'#' * s['level']} {s['title']}'"


@pytest.fixture(scope="module")
def pair():
    return sections(read(EN)), sections(read(CN))


def test_same_heading_structure(pair):
    en, cn = pair
    levels_en = [s["level"] for s in en]
    levels_cn = [s["level"] for s in cn]
    if levels_en != levels_cn:
        for i, (a, b) in enumerate(zip(en, cn)):
            assert a["level"] == b["level"], (
                f"heading {i}: {EN} has {describe(a)}, {CN} has {describe(b)} (other level)")
        longer, name = (en, EN) if len(en) > len(cn) else (cn, CN)
        extra = [describe(s) for s in longer[min(len(en), len(cn)):]]
        pytest.fail(f"{EN} has {len(en) - 1} headings, {CN} {len(cn) - 1}; "
                    f"only in {name}: {extra}")


def test_same_numbers_in_every_section(pair):
    en, cn = pair
    assert len(en) == len(cn), "heading structures differ (see test_same_heading_structure)"
    problems = []
    for a, b in zip(en, cn):
        na, nb = Counter(numbers(a["prose"])), Counter(numbers(b["prose"]))
        if na != nb:
            problems.append(f"section {describe(a)} / {describe(b)}: only in {EN}: "
                            f"{sorted((na - nb).elements())}, only in {CN}: "
                            f"{sorted((nb - na).elements())}")
    assert not problems, "numbers differ (write Arabic digits in both):\n" + "\n".join(problems)


def test_same_code_blocks_and_commands(pair):
    en, cn = pair
    assert len(en) == len(cn), "heading structures differ (see test_same_heading_structure)"
    problems = []
    for a, b in zip(en, cn):
        if a["blocks"] != b["blocks"]:
            for i in range(max(len(a["blocks"]), len(b["blocks"]))):
                x = a["blocks"][i] if i < len(a["blocks"]) else "(none)"
                y = b["blocks"][i] if i < len(b["blocks"]) else "(none)"
                if x != y:
                    problems.append(f"section {describe(a)}: code block {i + 1} differs:\n"
                                    f"  {EN}: {x!r}\n  {CN}: {y!r}")
                    break
        ca, cb = Counter(inline_commands(a["prose"])), Counter(inline_commands(b["prose"]))
        if ca != cb:
            problems.append(f"section {describe(a)} / {describe(b)}: inline commands only in "
                            f"{EN}: {sorted((ca - cb).elements())}; only in {CN}: "
                            f"{sorted((cb - ca).elements())}")
    assert not problems, "\n".join(problems)


def _config_keys() -> set:
    with open(os.path.join(ROOT, "default_config.yaml"), encoding="utf-8") as f:
        values = next(yaml.safe_load_all(f))
    return set(values) | {"config_path", "help", "debug"}


def _script_source(script: str) -> str:
    """The script's text, with the bodies of the `add_..._argument(parser)` helpers it calls
    from its sibling modules (options shared between benchmarks)."""
    text = read(script)
    helpers = set(re.findall(r"\b(add_\w*argument\w*)\(", text))
    folder = os.path.dirname(script)
    for name in sorted(os.listdir(os.path.join(ROOT, folder or "."))):
        if name.endswith(".py") and helpers:
            sibling = read(os.path.join(folder, name))
            for helper in helpers:
                m = re.search(rf"^def {helper}\(.*?(?=^\S)", sibling + "\nEND", re.M | re.S)
                text += "\n" + (m.group(0) if m else "")
    return text


def _segments(command: str) -> List[List[str]]:
    """A shell command line split into simple commands (at ;, &&, ||, |, >)."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|<>")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    out, current = [], []
    for token in lexer:
        if set(token) <= set(";&|<>"):
            out.append(current)
            current = [] if token != ">" else ["(redirect)"]
        else:
            current.append(token)
    out.append(current)
    return [seg for seg in out if seg and seg[0] != "(redirect)"]


def command_problems(command: str, keys: set) -> List[str]:
    """What is wrong with a documented command: a script that does not exist, an option the
    program does not take. Placeholders ([--log_dir DIR], CONFIG_PATH, ...) are fine."""
    problems = []
    for seg in _segments(command):
        words = [w.strip("[]") for w in seg]
        starts = [i for i, w in enumerate(words) if w in ("python", "python3.11", "bash")]
        if not starts or len(words) <= starts[0] + 1:
            continue
        program, args = words[starts[0] + 1], words[starts[0] + 2:]
        if program in ("-m", "-c") or program.startswith("<"):
            continue
        if not os.path.isfile(os.path.join(ROOT, program)):
            problems.append(f"{program}: no such file")
            continue
        if program in ("train.py", "eval.py", "export.py"):
            own, rest = args, []
        elif "--" in args:  # the rest goes to train.py (bench_learning.py, run_seeds_cpu.sh)
            own, rest = args[:args.index("--")], args[args.index("--") + 1:]
        else:
            own, rest = args, []
        if program.endswith(".sh"):
            allowed = {"log_dir", "help"}
            problems += [f"{program}: no option {w}" for w in own
                         if w.startswith("--") and w[2:].split("=")[0] not in allowed]
        elif program not in ("train.py", "eval.py", "export.py"):
            source = _script_source(program)
            problems += [f"{program}: no option {w}" for w in own if w.startswith("--")
                         and f'"{w.split("=")[0]}"' not in source]
        else:
            rest = own
        problems += [f"{program}: train.py/eval.py/export.py have no setting {w}" for w in rest
                     if w.startswith("--") and len(w) > 2 and w[2:].split("=")[0] not in keys]
    return problems


@pytest.mark.parametrize("path", DOCS)
def test_commands_name_existing_scripts_and_options(path):
    keys, problems = _config_keys(), []
    text = read(path)
    prose, blocks = split_fences(text)
    # A row of an error table shows a wrong command on purpose, beside its `error:` message.
    commands = inline_commands("\n".join(line for line in prose if "`error:" not in line))
    for block in blocks:
        if block.startswith(("```bash", "```sh")):
            commands += block.splitlines()[1:-1]
    assert commands, f"{path}: no commands found"
    for command in commands:
        problems += [f"{p}   in: {command}" for p in command_problems(command, keys)]
    assert not problems, f"{path}:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", DOCS)
def test_relative_links_resolve(path):
    text = read(path)
    prose, _ = split_fences(text)
    base = os.path.dirname(os.path.join(ROOT, path))
    problems = []
    for target in re.findall(r"\]\(([^)\s]+)\)", "\n".join(prose)):
        if re.match(r"^[a-z]+:", target):
            continue
        file_part, _, anchor = target.partition("#")
        file_path = os.path.normpath(os.path.join(base, file_part)) if file_part else \
            os.path.join(ROOT, path)
        if not os.path.exists(file_path):
            problems.append(f"{target}: no such file")
        elif anchor and file_path.endswith(".md") and \
                anchor not in anchors(open(file_path, encoding="utf-8").read()):
            problems.append(f"{target}: no heading with that anchor")
    assert not problems, f"{path}:\n" + "\n".join(problems)


def table_rows_off_their_header(text: str) -> List[str]:
    """Table rows whose cell count differs from their table's header row (a row pasted into the
    wrong table renders as a broken table)."""
    problems, width = [], None
    prose, _ = split_fences(text)
    for number, line in enumerate(prose, 1):
        if not line.startswith("|"):
            width = None
            continue
        cells = len(re.split(r"(?<!\\)\|", line.strip().strip("|")))
        if width is None:
            width = cells
        elif cells != width:
            problems.append(f"line {number}: {cells} cells under a {width}-cell header: {line[:70]}")
    return problems


@pytest.mark.parametrize("path", DOCS)
def test_every_table_row_fits_its_header(path):
    problems = table_rows_off_their_header(read(path))
    assert not problems, f"{path}:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", DOCS)
def test_documents_speak_of_the_product(path):
    problems = []
    for number, line in enumerate(read(path).splitlines(), 1):
        line = re.sub(r"`(?:error|warning): [^`]*`", "", line)  # the programs' own messages
        for pattern in HISTORY_WORDS:
            for m in re.finditer(pattern, line, re.I):
                problems.append(f"line {number}: {m.group(0)!r} ({pattern}): {line.strip()[:90]}")
    assert not problems, (f"{path} speaks of how it was made, not of the product:\n"
                          + "\n".join(problems))


def test_results_document_keeps_every_figure_and_its_command():
    """Each figure under benchmarks/figures is shown in RESULTS.md, and each with the plot.py
    or bench_learning.py command that drew it."""
    text = read(RESULTS)
    figures = sorted(os.listdir(os.path.join(ROOT, "benchmarks", "figures")))
    assert figures
    for name in figures:
        assert f"(figures/{name})" in text, f"{name} is not shown in {RESULTS}"
        stem = name.rsplit(".", 1)[0]
        drawn = f"--out benchmarks/figures/{name}" in text or \
            re.search(r"bench_learning\.py[^`]*--out results/cheetah", text) and "3seeds" in stem
        assert drawn, f"{name}: the command that drew it is not in {RESULTS}"


def test_checks_catch_what_they_are_for():
    """The helpers find a drifted number, a wrong option and a history word."""
    assert numbers("seeds 0-2, 20,000 and -128.2 on Pendulum-v1, `python x.py --n 5`") == \
        ["0", "2", "20000", "-128.2", "1"]
    assert numbers("U(-3e-3, 3e-3) [link](a/b_300k.png)") == ["-3", "3", "3", "3"]
    keys = _config_keys()
    assert command_problems("python train.py --n_epoch 3", keys)
    assert command_problems("bash scripts/no_such.sh", keys)
    assert command_problems("python benchmarks/compare_runs.py --steps 300000", keys)
    assert not command_problems("taskset -c 1 python train.py --config_path a.yaml --seed 0", keys)
    assert not command_problems(
        "python benchmarks/bench_learning.py --seeds 0 --out d -- --config_path c.yaml", keys)
    assert command_problems(
        "python benchmarks/bench_learning.py --seeds 0 --out d -- --n_epoch 3", keys)
    assert table_rows_off_their_header("| a | b |\n| --- | --- |\n| 1 | 2 | 3 |\n")
    assert not table_rows_off_their_header("| a | b |\n| --- | --- |\n| `x \\| y` | 2 |\n\n| c |\n")
    assert any(re.search(p, "as issue 11 asked, last session", re.I) for p in HISTORY_WORDS)
    assert any(re.search(p, "在本机上测得") for p in HISTORY_WORDS)
