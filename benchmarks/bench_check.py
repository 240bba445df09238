"""Whole-process speed of `flywheel-harness check` on a generated corpus of workflows.

A deterministic corpus of varied workflows (matrices with include/exclude, reusable
workflows called with inputs, local composite actions, long `run:` scripts) is written to a
temporary directory, and the whole process

    python -m harness check --repo DIR --suite workflows --suite placement \\
        --suite bootstrap --format json

is timed at 50 and 100 workflow files and in an empty repository (the fixed start-up cost),
median of eleven runs, and at 150 files, median of twenty-one, interleaved with zizmor
`--offline` on the same files. Target: at most 0.7 times zizmor's time for 150 files, with
the cost per file staying flat (linear growth).

    python -m benchmarks check
"""

from __future__ import annotations

import random
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.timing import fit, load, time_commands, zizmor_command

TARGET_RATIO = 0.7
SIZES = (50, 100, 150)
RUNS = 11
"""Interleaved runs per command at the sizes that only feed the growth fit: the medians of
seven still moved the ratio by ±0.05 from one benchmark run to the next on the 2-core
machine."""
TARGET_RUNS = 21
"""Interleaved runs per command at the largest size, the one the target is judged at. Out of
80 interleaved pairs recorded in one sitting, windows of 11 pairs put the ratio of medians
over 0.7 in 6 % of windows (0.71 at worst) although the whole sitting's ratio was 0.59;
windows of 21 never did."""
SUITES = ("workflows", "placement", "bootstrap")

LANES = [
    "tinyland-nix",
    "tinyland-nix-heavy",
    "tinyland-docker",
    "ubuntu-latest",
    "tinyland-dind",
    "tinyland-nix-kvm",
]
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
        'for f in a b c; do\n  echo "$f" && make -C "$f" all\ndone',
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
        return (
            "    strategy:\n      matrix:\n        lane: [tinyland-nix, tinyland-nix-heavy]\n"
            "        package: [default, cli, docs]\n"
            "        exclude:\n          - {lane: tinyland-nix-heavy, package: docs}\n"
            "        include:\n          - {package: docs, extra: true}\n"
            "          - {lane: tinyland-docker, package: image}\n",
            "${{ matrix.lane }}",
        )
    if kind == 1:
        return (
            "    strategy:\n      matrix:\n        include:\n"
            "          - {runner: tinyland-nix, system: x86_64-linux}\n"
            "          - {runner: tinyland-nix-kvm, system: x86_64-linux, vm: true}\n",
            "${{ matrix.runner }}",
        )
    if kind == 2:
        return (
            "    strategy:\n      matrix:\n        os: ['[\"tinyland-nix\"]', "
            "'[\"tinyland-nix-heavy\"]']\n",
            "${{ fromJSON(matrix.os) }}",
        )
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
    lines = (
        rng.randrange(1, 8)
        if roll < 0.6
        else rng.randrange(10, 30)
        if roll < 0.9
        else rng.randrange(60, 150)
    )
    text += f"      - name: build\n        run: |\n{_script(rng, lines)}\n"
    if rng.random() < 0.2:
        text += "      - uses: ./.github/actions/cache-push\n"
    if rng.random() < 0.2:
        text += (
            "      - uses: DeterminateSystems/magic-nix-cache-action@v8\n"
            "      - run: nix build .#checks\n        shell: bash\n"
        )
    return text


def _workflow(rng: random.Random, index: int) -> str:
    kind = index % 5
    if kind == 4:  # a reusable workflow, called by the caller that follows it
        return (
            f"name: reusable {index}\non:\n  workflow_call:\n    inputs:\n"
            "      runner: {type: string, default: tinyland-nix}\n"
            "      package: {type: string, default: default}\n"
            "jobs:\n  build:\n    runs-on: ${{ inputs.runner }}\n    steps:\n"
            "      - uses: ./.github/actions/setup-nix\n"
            "      - run: nix build .#${{ inputs.package }}\n"
        )
    if kind == 3:
        callee = f".github/workflows/wf{index + 1:03d}.yml"
        return (
            f"name: caller {index}\non:\n  push:\n    branches: [main]\n  pull_request:\n"
            f"jobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps:\n"
            f"      - run: echo lint\n"
            f"  call:\n    needs: lint\n    strategy:\n      matrix:\n"
            f"        lane: [tinyland-nix, tinyland-nix-heavy]\n"
            f"    uses: ./{callee}\n    with:\n      runner: ${{{{ matrix.lane }}}}\n"
            f"      package: cli\n"
        )
    jobs = []
    previous = None
    for number in range(rng.randrange(2, 6)):
        name = f"job{number}"
        jobs.append(_job(rng, name, previous if rng.random() < 0.6 else None))
        previous = name
    return (
        f"name: workflow {index}\non:\n  push:\n  pull_request:\n"
        f"  workflow_dispatch:\npermissions:\n  contents: read\njobs:\n" + "".join(jobs)
    )


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


def _command(repo: Path) -> list[str]:
    args = [sys.executable, "-m", "harness", "check", "--repo", str(repo), "--format", "json"]
    for suite in SUITES:
        args += ["--suite", suite]
    return args


def main() -> dict[str, Any]:
    """Run the benchmark and return its JSON result."""
    seconds: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="harness-bench-") as tmp:
        pycache = Path(tmp) / "pycache"
        empty = Path(tmp) / "empty"  # no workflows: one error finding, the start-up cost
        (empty / ".github" / "workflows").mkdir(parents=True)
        seconds["0"] = time_commands({"harness": _command(empty)}, RUNS, pycache, cwd=empty)
        for size in SIZES:
            repo = write_corpus(Path(tmp) / f"corpus{size}", size)
            commands = {"harness": _command(repo)}
            zizmor = zizmor_command(repo)
            if zizmor:
                commands["zizmor"] = zizmor
            runs = TARGET_RUNS if size == SIZES[-1] else RUNS
            seconds[str(size)] = time_commands(commands, runs, pycache, cwd=repo)
        files = sorted((Path(tmp) / f"corpus{SIZES[-1]}").rglob("*.yml"))
        corpus = {
            "workflow_files": SIZES[-1],
            "action_files": len(ACTIONS),
            "yaml_lines": sum(len(p.read_text().splitlines()) for p in files),
        }
    largest = seconds[str(SIZES[-1])]
    harness = largest["harness"]["median"]
    anchor = largest.get("zizmor", {}).get("median")
    ratio = round(harness / anchor, 3) if anchor else None
    return {
        "benchmark": "check",
        "command": "python -m harness check --repo DIR --suite workflows --suite placement "
        "--suite bootstrap --format json",
        "anchor": "zizmor --offline on the same corpus, interleaved"
        if anchor
        else "zizmor not installed (the bench dependency group has it)",
        "corpus": corpus,
        "bytecode": "cached, as for an installed package",
        "target": f"harness median <= {TARGET_RATIO} x zizmor median at {SIZES[-1]} files",
        "target_ratio": TARGET_RATIO,
        "seconds": seconds,
        "ratio_to_anchor": ratio,
        "growth": fit({size: seconds[str(size)]["harness"]["median"] for size in SIZES}),
        "cpu_growth": fit({size: seconds[str(size)]["harness"]["cpu_median"] for size in SIZES}),
        **load(),
        "passed": ratio is not None and ratio <= TARGET_RATIO,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))
