"""Whole-process `check --static` on a repository shaped like the fleet's infra repository.

The repository is generated (`benchmarks/infra_corpus.py`: about 75 `.tf` files and 370 KB
of HCL in modules and stacks, plus six workflows) and checked with every static suite:

    python -m harness check --repo DIR --static --format json

Target: at most 0.35 s, median of interleaved runs. Anchor, in the same run: zizmor
`--offline` on the same repository (it reads the workflows only). Growth: the same check at
half, full and one-and-a-half times the number of `.tf` files, with a linear fit.

    python -m benchmarks tofu
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.infra_corpus import corpus_size, write_infra_repo
from benchmarks.timing import fit, load, time_commands, zizmor_command

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 0.35
RUNS = 7
SCALES = (0.5, 1.0, 1.5)


def check_command(repo: Path) -> list[str]:
    """The measured command."""
    import sys

    return [
        sys.executable,
        "-m",
        "harness",
        "check",
        "--repo",
        str(repo),
        "--static",
        "--format",
        "json",
    ]


def main() -> dict[str, Any]:
    """Generate the repositories, time the check and zizmor interleaved, judge the target."""
    with tempfile.TemporaryDirectory(prefix="harness-bench-tofu-") as tmp:
        pycache = Path(tmp) / "pycache"
        repos = {
            scale: write_infra_repo(Path(tmp) / f"infra-{scale}", scale=scale) for scale in SCALES
        }
        sizes = {scale: corpus_size(repo) for scale, repo in repos.items()}
        main_repo = repos[1.0]
        commands = {"harness": check_command(main_repo)}
        zizmor = zizmor_command(main_repo)
        if zizmor:
            commands["zizmor"] = zizmor
        timed = time_commands(commands, RUNS, pycache, cwd=main_repo)
        growth = {
            scale: time_commands({"harness": check_command(repo)}, 3, pycache, cwd=repo)["harness"]
            for scale, repo in repos.items()
            if scale != 1.0
        }
        growth[1.0] = timed["harness"]
    harness = timed["harness"]["median"]
    anchor = timed.get("zizmor", {}).get("median")
    return {
        "benchmark": "tofu",
        "command": "python -m harness check --repo DIR --static --format json",
        "corpus": sizes[1.0],
        "target": f"harness median <= {TARGET_SECONDS} s",
        "target_seconds": TARGET_SECONDS,
        "seconds": timed,
        "anchor": "zizmor --offline on the same repository"
        if anchor
        else "zizmor not installed (the bench dependency group has it)",
        "ratio_to_anchor": round(harness / anchor, 3) if anchor else None,
        "growth": {
            "points": {str(sizes[s]["tf_files"]): growth[s]["median"] for s in SCALES},
            **fit({sizes[s]["tf_files"]: growth[s]["median"] for s in SCALES}),
        },
        "cpu_growth": {
            "points": {str(sizes[s]["tf_files"]): growth[s]["cpu_median"] for s in SCALES},
            **fit({sizes[s]["tf_files"]: growth[s]["cpu_median"] for s in SCALES}),
        },
        **load(),
        "passed": harness <= TARGET_SECONDS,
    }


if __name__ == "__main__":
    import json

    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    print(json.dumps(main(), indent=2))
