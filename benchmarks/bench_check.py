"""Whole-process speed of `flywheel-harness check` on a generated corpus of workflows.

A deterministic corpus of varied workflows (matrices with include/exclude, reusable
workflows called with inputs, local composite actions, long `run:` scripts) is written to a
temporary directory, and the whole process

    python -m harness check --repo DIR --suite workflows --suite placement \\
        --suite bootstrap --format json

is timed (median of several runs) at 50, 100 and 150 workflow files, plus an empty
repository for the fixed start-up cost. Target: under 0.4 s for 150 files, with the cost
per file staying flat (linear growth).

    python -m benchmarks check
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 0.4
SIZES = (50, 100, 150)
RUNS = 7
SUITES = ("workflows", "placement", "bootstrap")

LANES = ["tinyland-nix", "tinyland-nix-heavy", "tinyland-docker", "ubuntu-latest",
         "tinyland-dind", "tinyland-nix-kvm"]
INSTALLERS = [
    "      - uses: DeterminateSystems/nix-installer-action@v16",
    "      - uses: cachix/install-nix-action@v30",
    "      - uses: ./.github/actions/setup-nix",
    "      - run: curl -sSfL https://install.determinate.systems/nix | sh -s -- install",
]
ACTIONS = {
    "setup-nix": """\
name: setup nix
description: install Nix and configure the Attic substituter
inputs:
  cache: {default: main}
runs:
  using: composite
  steps:
    - uses: DeterminateSystems/nix-installer-action@v16
    - shell: bash
      run: |
        echo "extra-substituters = http://127.0.0.1:8080/${{ inputs.cache }}" \\
          | sudo tee -a /etc/nix/nix.conf
        nix --version
""",
    "nix-job": """\
name: nix job
runs:
  using: composite
  steps:
    - uses: ./.github/actions/setup-nix
    - shell: bash
      run: nix flake check --print-build-logs
""",
    "cache-push": """\
name: cache push
runs:
  using: composite
  steps:
    - uses: ryanccn/attic-action@v0
      with: {endpoint: "http://127.0.0.1:8080", cache: main}
    - shell: bash
      run: attic push main ./result
""",
}


def _script(rng: random.Random, lines: int) -> str:
    """A long, varied bash script (indented for a `run: |` block)."""
    pieces = [
        "echo \"building ${{ matrix.package || 'default' }}\"",
        "nix build .#{pkg} --print-build-logs",
        "out=$(nix eval --raw .#{pkg}.version)",
        "if [ -f flake.lock ]; then\n  nix flake metadata --json | jq .locks\nfi",
        "for f in a b c; do\n  echo \"$f\" && make -C \"$f\" all\ndone",
        "cat <<'EOF' > notes.txt\nnix build is documented here\nEOF",
        "sudo env NIX_CONFIG='max-jobs = 4' nix-build default.nix -A {pkg}",
        "nix develop --command cargo test --workspace --release",
        "nix-shell --run 'make check && make dist'",
        "# nix build would be wrong here\ncargo fmt --check",
        "bash -c 'nix-store --gc --print-dead | wc -l'",
        "curl -fsSL http://127.0.0.1:8080/health || true",
        "python3 - <<'PY'\nprint('nix build')\nPY",
        "timeout 30m nix flake check \\\n  --keep-going \\\n  --print-build-logs",
    ]
    out: list[str] = []
    while len(out) < lines:
        piece = rng.choice(pieces).replace("{pkg}", rng.choice(["default", "cli", "docs"]))
        out.extend(piece.splitlines())
    return "\n".join("          " + line for line in out[:lines])


def _matrix(rng: random.Random) -> tuple[str, str]:
    """A `strategy:` block and the runs-on it feeds."""
    kind = rng.randrange(4)
    if kind == 0:
        return ("    strategy:\n      matrix:\n        lane: [tinyland-nix, tinyland-nix-heavy]\n"
                "        package: [default, cli, docs]\n"
                "        exclude:\n          - {lane: tinyland-nix-heavy, package: docs}\n"
                "        include:\n          - {package: docs, extra: true}\n"
                "          - {lane: tinyland-docker, package: image}\n",
                "${{ matrix.lane }}")
    if kind == 1:
        return ("    strategy:\n      matrix:\n        include:\n"
                "          - {runner: tinyland-nix, system: x86_64-linux}\n"
                "          - {runner: tinyland-nix-kvm, system: x86_64-linux, vm: true}\n",
                "${{ matrix.runner }}")
    if kind == 2:
        return ("    strategy:\n      matrix:\n        os: ['[\"tinyland-nix\"]', "
                "'[\"tinyland-nix-heavy\"]']\n", "${{ fromJSON(matrix.os) }}")
    return "", rng.choice(LANES)


def _job(rng: random.Random, name: str, needs: str | None) -> str:
    strategy, runs_on = _matrix(rng)
    text = f"  {name}:\n"
    if needs:
        text += f"    needs: {needs}\n"
    text += strategy + f"    runs-on: {runs_on}\n    timeout-minutes: 60\n    steps:\n"
    text += "      - uses: actions/checkout@v4\n"
    if rng.random() < 0.85:
        text += rng.choice(INSTALLERS) + "\n"
    if rng.random() < 0.3:
        text += "      - uses: ./.github/actions/nix-job\n"
    roll = rng.random()  # most scripts are short, some medium, a few long
    lines = rng.randrange(1, 8) if roll < 0.6 else rng.randrange(10, 30) if roll < 0.9 \
        else rng.randrange(60, 150)
    text += f"      - name: build\n        run: |\n{_script(rng, lines)}\n"
    if rng.random() < 0.2:
        text += "      - uses: ./.github/actions/cache-push\n"
    if rng.random() < 0.2:
        text += ("      - uses: DeterminateSystems/magic-nix-cache-action@v8\n"
                 "      - run: nix build .#checks\n        shell: bash\n")
    return text


def _workflow(rng: random.Random, index: int) -> str:
    kind = index % 5
    if kind == 4:  # a reusable workflow, called by the caller that follows it
        return (f"name: reusable {index}\non:\n  workflow_call:\n    inputs:\n"
                "      runner: {type: string, default: tinyland-nix}\n"
                "      package: {type: string, default: default}\n"
                "jobs:\n  build:\n    runs-on: ${{ inputs.runner }}\n    steps:\n"
                "      - uses: ./.github/actions/setup-nix\n"
                "      - run: nix build .#${{ inputs.package }}\n")
    if kind == 3:
        callee = f".github/workflows/wf{index + 1:03d}.yml"
        return (f"name: caller {index}\non:\n  push:\n    branches: [main]\n  pull_request:\n"
                f"jobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps:\n"
                f"      - run: echo lint\n"
                f"  call:\n    needs: lint\n    strategy:\n      matrix:\n"
                f"        lane: [tinyland-nix, tinyland-nix-heavy]\n"
                f"    uses: ./{callee}\n    with:\n      runner: ${{{{ matrix.lane }}}}\n"
                f"      package: cli\n")
    jobs = []
    previous = None
    for number in range(rng.randrange(2, 6)):
        name = f"job{number}"
        jobs.append(_job(rng, name, previous if rng.random() < 0.6 else None))
        previous = name
    return (f"name: workflow {index}\non:\n  push:\n  pull_request:\n"
            f"  workflow_dispatch:\npermissions:\n  contents: read\njobs:\n" + "".join(jobs))


def write_corpus(root: Path, files: int, seed: int = 2) -> Path:
    """Write a repository with `files` workflow files under `root`; return it."""
    rng = random.Random(seed)
    workflows = root / ".github" / "workflows"
    workflows.mkdir(parents=True)
    for index in range(files):
        if index % 5 == 3 and index + 1 >= files:  # a caller needs its callee
            text = _workflow(rng, index - 3)
        else:
            text = _workflow(rng, index)
        (workflows / f"wf{index:03d}.yml").write_text(text, encoding="utf-8")
    for name, text in ACTIONS.items():
        directory = root / ".github" / "actions" / name
        directory.mkdir(parents=True)
        (directory / "action.yml").write_text(text, encoding="utf-8")
    return root


FOUNDATION_SCENARIOS = {
    "workflows": ["files-readable: workflows.readable", "local-uses-resolve: workflows.local_uses",
                  "needs-graph: workflows.needs"],
    "placement": ["labels-are-lanes: lanes.known_labels",
                  "lane-label-alone: lanes.scale_set_label_alone"],
    "bootstrap": ["workflow-owned-nix: bootstrap.workflow_owned_nix"],
}
"""The foundation's own rules (WF, LANE, BOOT) only, to tell their cost from other checks."""


def write_foundation_scenarios(directory: Path) -> Path:
    """Scenario files with only the WF, LANE and BOOT cases; return the directory."""
    directory.mkdir(parents=True)
    for suite, cases in FOUNDATION_SCENARIOS.items():
        lines = ["cases:"]
        for case in cases:
            name, check = case.split(": ")
            lines += [f"  - name: {name}", f"    check: {check}"]
        (directory / f"{suite}.scenario.yaml").write_text("\n".join(lines) + "\n")
    return directory


def _command(repo: Path, scenarios: Path | None = None) -> list[str]:
    args = [sys.executable, "-m", "harness", "check", "--repo", str(repo), "--format", "json"]
    for suite in SUITES:
        args += ["--suite", suite]
    if scenarios is not None:
        args += ["--scenarios", str(scenarios)]
    return args


def _fit(points: dict[int, float]) -> dict[str, float]:
    """Least-squares line through (files, seconds): per-file cost, intercept and r^2."""
    xs, ys = list(points), list(points.values())
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sxx
    intercept = mean_y - slope * mean_x
    total = sum((y - mean_y) ** 2 for y in ys) or 1e-12
    residual = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    return {"ms_per_file": round(slope * 1000, 3), "intercept_s": round(intercept, 4),
            "r_squared": round(1 - residual / total, 4)}


def time_check(repo: Path, pycache: Path, runs: int = RUNS,
               scenarios: Path | None = None) -> dict[str, Any]:
    """Median, min and max wall time (and CPU time) of the whole `check` process on `repo`.

    Bytecode is cached (in `pycache`) as it is for an installed package, even where the
    environment sets PYTHONDONTWRITEBYTECODE.
    """
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONPYCACHEPREFIX=str(pycache))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    times = []
    cpu = []
    code = None
    for _ in range(runs + 1):  # the first run warms the caches and is not counted
        before = os.times()
        started = time.perf_counter()
        done = subprocess.run(_command(repo, scenarios), cwd=repo, env=env, capture_output=True,
                              timeout=120, check=False)
        times.append(time.perf_counter() - started)
        after = os.times()
        cpu.append(after.children_user - before.children_user
                   + after.children_system - before.children_system)
        code = done.returncode
        if code not in (0, 1):
            raise RuntimeError(f"check exited {code}: {done.stderr.decode()[-2000:]}")
    counted = times[1:]
    return {"median": round(statistics.median(counted), 4), "min": round(min(counted), 4),
            "max": round(max(counted), 4), "cpu_median": round(statistics.median(cpu[1:]), 4),
            "exit_code": code}


def main() -> dict[str, Any]:
    """Run the benchmark and return its JSON result."""
    bundled: dict[str, Any] = {}
    foundation: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="harness-bench-") as tmp:
        pycache = Path(tmp) / "pycache"
        scenarios = write_foundation_scenarios(Path(tmp) / "scenarios")
        empty = Path(tmp) / "empty"
        empty.mkdir()
        bundled["0"] = time_check(empty, pycache)
        foundation["0"] = time_check(empty, pycache, scenarios=scenarios)
        for size in SIZES:
            repo = write_corpus(Path(tmp) / f"corpus{size}", size)
            bundled[str(size)] = time_check(repo, pycache)
            foundation[str(size)] = time_check(repo, pycache, scenarios=scenarios)
        files = sorted((Path(tmp) / f"corpus{SIZES[-1]}").rglob("*.yml"))
        corpus = {"workflow_files": SIZES[-1], "action_files": len(ACTIONS),
                  "yaml_lines": sum(len(p.read_text().splitlines()) for p in files)}
    largest = bundled[str(SIZES[-1])]["median"]
    return {
        "benchmark": "check",
        "command": "python -m harness check --repo DIR --suite workflows --suite placement "
                   "--suite bootstrap --format json",
        "runs_per_size": RUNS,
        "corpus": corpus,
        "bytecode": "cached, as for an installed package",
        "target_seconds": TARGET_SECONDS,
        "seconds": bundled,
        "growth": _fit({size: bundled[str(size)]["median"] for size in SIZES}),
        "cpu_growth": _fit({size: bundled[str(size)]["cpu_median"] for size in SIZES}),
        "foundation_rules_only": {
            "what": "WF001-WF003, LANE001-LANE003 and BOOT001 cases alone (--scenarios)",
            "seconds": foundation,
            "growth": _fit({size: foundation[str(size)]["median"] for size in SIZES}),
            "passed": foundation[str(SIZES[-1])]["median"] < TARGET_SECONDS,
        },
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "passed": largest < TARGET_SECONDS,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))
