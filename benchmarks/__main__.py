"""Run every `benchmarks/bench_*.py` (or those named on the command line) and save results.

Each module exposes `main() -> dict`; its result is written as JSON to
`benchmarks/results/<name>.json` (name without the `bench_` prefix) and summarised on
stdout. Exit 1 when a benchmark reports `"passed": false` (missed its target).

    python -m benchmarks            # all
    python -m benchmarks sampler    # benchmarks/bench_sampler.py only
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def main(argv: list[str]) -> int:
    """Run the selected benchmarks; return the exit code."""
    names = sorted(p.stem[len("bench_") :] for p in HERE.glob("bench_*.py"))
    selected = [n for n in names if not argv or n in argv]
    unknown = sorted(set(argv) - set(names))
    if unknown:
        sys.stderr.write(
            f"unknown benchmark(s): {', '.join(unknown)} (known: {', '.join(names)})\n"
        )
        return 2
    RESULTS.mkdir(exist_ok=True)
    failed = False
    for name in selected:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        result = module.main()
        (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
        verdict = {True: "ok", False: "MISSED TARGET", None: "done"}[result.get("passed")]
        sys.stdout.write(f"{name}: {verdict} -> {RESULTS / f'{name}.json'}\n")
        for key in ("target", "anchor", "ratio_to_anchor", "ratio", "skipped"):
            if result.get(key) is not None:
                sys.stdout.write(f"  {key.replace('_', ' ')}: {result[key]}\n")
        failed = failed or result.get("passed") is False
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
