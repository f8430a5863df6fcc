"""Where a py-spy profile's time goes: inclusive shares by layer and the top functions.

Reads py-spy's collapsed stacks (``py-spy record --format raw``, as ``bench/vs_opa.py
--profile DIR`` writes them: one line per stack, frames separated by ``;``, then the sample
count) and prints, for the samples of the event-loop thread (the one that runs the ASGI app):

- the share of samples in which each *layer* appears anywhere on the stack (uvicorn, starlette,
  fastapi, pydantic, orjson-bound guardian modules, the journal...), so "42 % in FastAPI" means
  42 % of the loop's samples were somewhere under FastAPI code;
- the functions with the most samples of their own (the leaf frame).

    python bench/profile_top.py PROFILE.txt [--top 25]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]*)(?::\d+)?\)$")

LAYERS = (
    ("uvicorn", "uvicorn/"),
    ("starlette", "starlette/"),
    ("fastapi", "fastapi/"),
    ("pydantic", "pydantic"),
    ("guardian.api", "guardian/api/"),
    ("guardian.policy", "guardian/policy/"),
    ("guardian.identity", "guardian/identity/"),
    ("guardian.audit", "guardian/audit/"),
    ("guardian.adapters", "guardian/adapters/"),
    ("prometheus_client", "prometheus_client/"),
    ("structlog", "structlog/"),
    ("logging", "logging/"),
    ("asyncio", "asyncio/"),
)


def parse(path: Path) -> list[tuple[list[str], int]]:
    stacks: list[tuple[list[str], int]] = []
    for line in path.read_text().splitlines():
        head, _, count = line.rpartition(" ")
        if head and count.isdigit():
            stacks.append((head.split(";"), int(count)))
    return stacks


def file_of(frame: str) -> str:
    match = _FRAME.match(frame)
    return match.group("file") if match else frame


def is_loop(frames: list[str]) -> bool:
    """The event loop's thread: every stack not started by ``threading`` (uvloop runs the loop
    in C, so a callback's stack starts at the callback)."""
    return not any("(threading.py:" in f for f in frames)


def report(stacks: list[tuple[list[str], int]], top: int) -> str:
    total = sum(c for _, c in stacks)
    loop = [(f, c) for f, c in stacks if is_loop(f)]
    loop_total = sum(c for _, c in loop) or 1
    layers: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for frames, count in loop:
        files = [file_of(f) for f in frames]
        for name, marker in LAYERS:
            if any(marker in f for f in files):
                layers[name] += count
        leaves[frames[-1]] += count
    out = [f"{total} samples, {loop_total} on the event loop's thread "
           f"({100 * loop_total / max(1, total):.0f} %)", "", "layer (inclusive, loop thread):"]
    out += [f"  {name:20} {100 * n / loop_total:5.1f} %" for name, n in layers.most_common()]
    out += ["", f"top {top} leaf frames (self, loop thread):"]
    out += [f"  {100 * n / loop_total:5.1f} %  {leaf}" for leaf, n in leaves.most_common(top)]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    print(report(parse(args.profile), args.top))


if __name__ == "__main__":
    main()
