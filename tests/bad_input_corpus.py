"""The bad-input corpus: hostile or broken files, each with the one line the harness answers.

Each case is one file (its `text`, or `data` for bytes) put where its `kind` says, the
command run on it, the exit status and a regular expression for the one line that must
appear (a WF001/STATE003 finding, or the exit-2 error). tests/test_bad_input.py runs them.

kinds: `workflow` -> .github/workflows/ci.yml, `check --suite workflows`;
`placement` -> the same file, `check --suite placement`; `contract` -> fleet.yaml,
`check --suite workflows`; `scenario` -> scenarios/x.scenario.yaml, `check --scenarios`;
`evidence` -> evidence.json, `gate --evidence`; `render` -> evidence.json,
`evidence render`; `tf` -> infra/main.tf, `check --suite state`; `argv` -> only the
command line (`text` holds it, with {repo}, {file} and {tmp} filled in).
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class BadInput:
    """One corpus case."""

    name: str
    kind: str
    text: str = ""
    expect: str = ""
    """Regular expression the one answer line must match (searched)."""
    exit: int = 2
    data: bytes | None = None


def _bomb(levels: int = 9, width: int = 9, indent: str = "") -> str:
    """A "billion laughs": `levels` anchors, each a list of `width` aliases of the last."""
    lines = [f"{indent}l0: &l0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"{indent}l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    return "\n".join(lines)


WF = r"\.github/workflows/ci\.yml:\d+:\d+: error: "
HEAD = "name: ci\non: push\n"
JOB = "jobs:\n  build:\n    runs-on: tinyland-nix\n    steps:\n      - run: echo hi\n"
BOMB_ANCHORS = "x-bomb:\n" + _bomb(indent="  ") + "\n"
ALIAS = r"YAML aliases expand to more than 10,000 nodes"


def _workflow_cases() -> list[BadInput]:
    cases = [
        BadInput(
            "yaml-unclosed-flow",
            "workflow",
            HEAD + "jobs:\n  a:\n    runs-on: [\n",
            WF + "invalid YAML",
            1,
        ),
        BadInput(
            "yaml-unclosed-quote",
            "workflow",
            HEAD + "jobs:\n  a:\n    runs-on: 'x\n",
            WF + "invalid YAML",
            1,
        ),
        BadInput("yaml-tab-indent", "workflow", HEAD + "jobs:\n\ta:\n", WF + "invalid YAML", 1),
        BadInput(
            "yaml-bad-indent",
            "workflow",
            HEAD + "jobs:\n  a:\n    runs-on: x\n   b: 1\n",
            WF + "invalid YAML",
            1,
        ),
        BadInput(
            "yaml-two-documents",
            "workflow",
            HEAD + JOB + "---\n" + HEAD + JOB,
            WF.replace(r"\d+:\d+", r"\d+(:\d+)?") + "invalid YAML",
            1,
        ),
        BadInput(
            "yaml-undefined-alias",
            "workflow",
            HEAD + "jobs:\n  a: *nothing\n",
            WF + "invalid YAML",
            1,
        ),
        BadInput(
            "yaml-duplicate-key",
            "workflow",
            HEAD + "jobs:\n  a:\n    runs-on: x\n    runs-on: y\n",
            WF + "duplicate key",
            1,
        ),
        BadInput(
            "yaml-complex-key",
            "workflow",
            HEAD + "jobs:\n  ? [a, b]\n  : 1\n",
            WF + "mapping keys must be plain scalars",
            1,
        ),
        BadInput(
            "yaml-unknown-tag",
            "workflow",
            HEAD + "jobs: !!python/object:os.system x\n",
            WF + ".*no `jobs` mapping",
            1,
        ),
        BadInput(
            "yaml-deep-nesting",
            "workflow",
            HEAD + "jobs: " + "[" * 500 + "]" * 500 + "\n",
            WF + "YAML nests too deeply",
            1,
        ),
        BadInput(
            "empty-file",
            "workflow",
            "",
            r"\.github/workflows/ci\.yml(:\d+)?(:\d+)?: "
            r"error: .*",
            1,
        ),
        BadInput(
            "only-a-comment",
            "workflow",
            "# nothing\n",
            r"\.github/workflows/ci\.yml(:\d+)?(:\d+)?: error: ",
            1,
        ),
        BadInput("a-list-document", "workflow", "- a\n- b\n", WF + ".*mapping", 1),
        BadInput(
            "a-scalar-document",
            "workflow",
            "hello\n",
            r"\.github/workflows/ci\.yml(:\d+)?(:\d+)?: error: .*mapping",
            1,
        ),
        BadInput("jobs-a-list", "workflow", HEAD + "jobs: [1]\n", WF + ".*no `jobs` mapping", 1),
        BadInput(
            "jobs-a-string", "workflow", HEAD + "jobs: build\n", WF + ".*no `jobs` mapping", 1
        ),
        BadInput("no-jobs", "workflow", HEAD, r"ci\.yml(:\d+)?(:\d+)?: error: .*jobs", 1),
        BadInput(
            "not-utf8",
            "workflow",
            "",
            r"ci\.yml(:\d+)?(:\d+)?: error: .*UTF-8",
            1,
            data=b"on: push\njobs:\n  a:\n    runs-on: \xff\xfe\n",
        ),
        BadInput(
            "nul-bytes",
            "workflow",
            "",
            r"ci\.yml(:\d+)?(:\d+)?: error: ",
            1,
            data=b"on: push\x00\njobs: {}\n",
        ),
        BadInput(
            "utf16-bom",
            "workflow",
            "",
            r"ci\.yml(:\d+)?(:\d+)?: error: ",
            1,
            data="on: push\n".encode("utf-16"),
        ),
        BadInput(
            "huge-workflow",
            "workflow",
            HEAD
            + "jobs:\n"
            + "".join(
                f"  j{i}:\n    runs-on: tinyland-nix\n    steps: [{{run: echo}}]\n"
                for i in range(60_000)
            ),
            r"ci\.yml(:\d+)?(:\d+)?: error: .*over the 2097152-byte limit",
            1,
        ),
        BadInput(
            "huge-script",
            "workflow",
            HEAD + JOB.replace("echo hi", "echo " + "x" * 3_000_000),
            r"ci\.yml(:\d+)?(:\d+)?: error: .*over the 2097152-byte limit",
            1,
        ),
    ]
    bombs = {
        "runs-on": "jobs:\n  a:\n    runs-on: *l8\n    steps: [{run: echo}]\n",
        "step-env": "jobs:\n  a:\n    runs-on: tinyland-nix\n    steps:\n      - run: echo\n"
        "        env: {X: *l8}\n",
        "matrix-axis": "jobs:\n  a:\n    runs-on: ${{ matrix.os }}\n    strategy:\n"
        "      matrix: {os: *l8}\n    steps: [{run: echo}]\n",
        "matrix-include": "jobs:\n  a:\n    runs-on: ${{ matrix.os }}\n    strategy:\n"
        "      matrix: {include: *l8}\n    steps: [{run: echo}]\n",
        "with": "jobs:\n  a:\n    uses: ./.github/workflows/other.yml\n    with: {x: *l8}\n",
        "job-env": "jobs:\n  a:\n    runs-on: tinyland-nix\n    env: {X: *l8}\n"
        "    steps: [{run: echo}]\n",
        "needs": "jobs:\n  a:\n    runs-on: tinyland-nix\n    needs: *l8\n"
        "    steps: [{run: echo}]\n",
        "merge-key": "jobs:\n  a:\n    <<: *l8\n    runs-on: tinyland-nix\n"
        "    steps: [{run: echo}]\n",
    }
    for where, body in bombs.items():
        cases.append(
            BadInput(f"alias-bomb-{where}", "workflow", HEAD + BOMB_ANCHORS + body, WF + ALIAS, 1)
        )
        cases.append(
            BadInput(
                f"alias-bomb-{where}-placement",
                "placement",
                HEAD + BOMB_ANCHORS + body,
                WF + ALIAS,
                1,
            )
        )
    cases.append(
        BadInput(
            "alias-bomb-small-levels",
            "workflow",
            HEAD + "x:\n" + _bomb(5, 10, "  ") + "\n" + JOB,
            WF + ALIAS,
            1,
        )
    )
    cases.append(
        BadInput(
            "alias-bomb-wide",
            "workflow",
            HEAD + "x:\n" + _bomb(2, 200, "  ") + "\n" + JOB,
            WF + ALIAS,
            1,
        )
    )
    return cases


def _matrix_cases() -> list[BadInput]:
    axis = "[" + ", ".join(f"v{i}" for i in range(60)) + "]"
    runs_on = "tinyland-nix-${{ matrix.a }}-${{ matrix.b }}-${{ matrix.c }}"
    body = (
        f"jobs:\n  a:\n    runs-on: {runs_on}\n    strategy:\n      matrix:\n"
        f"        a: {axis}\n        b: {axis}\n        c: {axis}\n"
        "    steps: [{run: cargo build}]\n"
    )
    wf005 = r"ci\.yml:\d+(:\d+)?: error: .*216,000 combinations.*\[WF005\]"
    return [
        BadInput("matrix-explosion-216000", "workflow", HEAD + body, wf005, 1),
        BadInput("matrix-explosion-placement", "placement", HEAD + body, wf005, 1),
    ]


CONTRACT_ERR = r"fleet\.yaml:\d+: "


def _contract_cases(bundled: str) -> list[BadInput]:
    def replace(old: str, new: str) -> str:
        assert old in bundled, old
        return bundled.replace(old, new, 1)

    lane = "memory_limit: 8Gi"
    cases = [
        BadInput(
            "contract-memory-1e999999Gi",
            "contract",
            replace(lane, "memory_limit: 1e999999Gi"),
            CONTRACT_ERR + ".*8Ei",
        ),
        BadInput(
            "contract-memory-1e400Gi",
            "contract",
            replace(lane, "memory_limit: 1e400Gi"),
            CONTRACT_ERR + ".*8Ei",
        ),
        BadInput(
            "contract-memory-1e400-bare",
            "contract",
            replace(lane, "memory_limit: 1e400"),
            CONTRACT_ERR,
        ),
        BadInput(
            "contract-memory-inf", "contract", replace(lane, "memory_limit: .inf"), CONTRACT_ERR
        ),
        BadInput(
            "contract-memory-nan", "contract", replace(lane, "memory_limit: .nan"), CONTRACT_ERR
        ),
        BadInput(
            "contract-memory-negative",
            "contract",
            replace(lane, "memory_limit: -8Gi"),
            CONTRACT_ERR,
        ),
        BadInput(
            "contract-memory-words",
            "contract",
            replace(lane, "memory_limit: eight gigs"),
            CONTRACT_ERR,
        ),
        BadInput(
            "contract-memory-9Ei",
            "contract",
            replace(lane, "memory_limit: 9Ei"),
            CONTRACT_ERR + ".*8Ei",
        ),
        BadInput(
            "contract-memory-long",
            "contract",
            replace(lane, "memory_limit: " + "9" * 5000 + "Gi"),
            CONTRACT_ERR,
        ),
        BadInput(
            "contract-sample-interval-inf",
            "contract",
            replace("margin: 0.15", "margin: 0.15\n  sample_interval: 1.0e+400"),
            CONTRACT_ERR,
        ),
        BadInput(
            "contract-sample-interval-zero",
            "contract",
            replace("margin: 0.15", "margin: 0.15\n  sample_interval: 0"),
            CONTRACT_ERR,
        ),
        BadInput(
            "contract-sample-interval-hour",
            "contract",
            replace("margin: 0.15", "margin: 0.15\n  sample_interval: 3600"),
            CONTRACT_ERR,
        ),
        BadInput(
            "contract-margin-2", "contract", replace("margin: 0.15", "margin: 2"), CONTRACT_ERR
        ),
        BadInput(
            "contract-max-age-newline",
            "contract",
            replace("max_age: 24h", 'max_age: "24h\\n"'),
            CONTRACT_ERR + ".*max_age",
        ),
        BadInput(
            "contract-max-age-huge",
            "contract",
            replace("max_age: 24h", "max_age: 9999999999999999999999d"),
            CONTRACT_ERR + ".*max_age",
        ),
        BadInput(
            "contract-max-age-unit",
            "contract",
            replace("max_age: 24h", "max_age: 24y"),
            CONTRACT_ERR + ".*max_age",
        ),
        BadInput(
            "contract-max-age-number",
            "contract",
            replace("max_age: 24h", "max_age: 24"),
            CONTRACT_ERR + ".*max_age",
        ),
        BadInput(
            "contract-require-signature-string",
            "contract",
            replace("max_age: 24h", "max_age: 24h\n    require_signature: maybe"),
            CONTRACT_ERR + ".*require_signature",
        ),
        BadInput(
            "contract-scenarios-sha-short",
            "contract",
            replace("max_age: 24h", "max_age: 24h\n    scenarios_sha256: [abc]"),
            CONTRACT_ERR + ".*scenarios_sha256",
        ),
        BadInput(
            "contract-version-2", "contract", replace("version: 1", "version: 2"), CONTRACT_ERR
        ),
        BadInput(
            "contract-unknown-key",
            "contract",
            bundled + "surprise: true\n",
            CONTRACT_ERR + ".*surprise",
        ),
        BadInput(
            "contract-version-list",
            "contract",
            replace("version: 1", "version: [1]"),
            CONTRACT_ERR + ".*version",
        ),
        BadInput("contract-empty", "contract", "", r"fleet\.yaml(:\d+)?: "),
        BadInput("contract-list", "contract", "- 1\n", CONTRACT_ERR + ".*mapping"),
        BadInput("contract-bad-yaml", "contract", "version: [\n", CONTRACT_ERR + "invalid YAML"),
        BadInput(
            "contract-duplicate-key",
            "contract",
            bundled + "version: 1\n",
            CONTRACT_ERR + "duplicate key",
        ),
        BadInput(
            "contract-alias-bomb",
            "contract",
            bundled + "x-bomb:\n" + _bomb(indent="  "),
            CONTRACT_ERR + ALIAS,
        ),
        BadInput(
            "contract-alias-bomb-lanes",
            "contract",
            "x-bomb:\n"
            + _bomb(indent="  ")
            + "\n"
            + bundled.replace("lanes:", "lanes_unused: *l8\nlanes:", 1),
            CONTRACT_ERR + ALIAS,
        ),
        BadInput(
            "contract-not-utf8",
            "contract",
            "",
            r"fleet\.yaml(:\d+)?: .*UTF-8",
            data=b"version: 1\nfleet: \xff\n",
        ),
        BadInput(
            "contract-deep",
            "contract",
            "a: " + "[" * 1000 + "]" * 1000 + "\n",
            CONTRACT_ERR + ".*(nests too deeply|nesting depth)",
        ),
        BadInput(
            "contract-huge",
            "contract",
            bundled + "#" + "x" * 5_000_000 + "\n",
            r"fleet\.yaml: .*over the 4194304-byte limit",
        ),
    ]
    return cases


def _scenario_cases() -> list[BadInput]:
    err = r"x\.scenario\.yaml(:\d+)?: "
    return [
        BadInput("scenario-empty", "scenario", "", err),
        BadInput("scenario-no-cases", "scenario", "suite: x\n", err + ".*cases"),
        BadInput("scenario-cases-empty", "scenario", "cases: []\n", err),
        BadInput(
            "scenario-unknown-check",
            "scenario",
            "cases:\n  - name: a\n    check: nope.nothing\n",
            err + "unknown check",
        ),
        BadInput(
            "scenario-bad-name",
            "scenario",
            "cases:\n  - name: A B\n    check: workflows.readable\n",
            err,
        ),
        BadInput(
            "scenario-duplicate-case",
            "scenario",
            "cases:\n  - name: a\n    check: workflows.readable\n"
            "  - name: a\n    check: workflows.readable\n",
            err + ".*defined twice",
        ),
        BadInput(
            "scenario-params-list",
            "scenario",
            "cases:\n  - name: a\n    check: workflows.readable\n    params: [1]\n",
            err,
        ),
        BadInput(
            "scenario-alias-bomb",
            "scenario",
            "x-bomb:\n" + _bomb(indent="  ") + "\ncases: *l8\n",
            err + ALIAS,
        ),
        BadInput("scenario-bad-yaml", "scenario", "cases: [\n", err + "invalid YAML"),
        BadInput(
            "scenario-extra-key",
            "scenario",
            "cases:\n  - name: a\n    check: workflows.readable\n    oops: 1\n",
            err,
        ),
    ]


def _evidence_cases() -> list[BadInput]:
    good = {"schema": "flywheel-harness/report@1", "results": []}
    deep = (
        '{"schema": "flywheel-harness/report@1", "results": [], "x": '
        + "[" * 100_000
        + "]" * 100_000
        + "}"
    )
    cases = []
    for kind in ("evidence", "render"):
        err = r"evidence\.json(:\d+)?: "
        cases += [
            BadInput(f"{kind}-deep-json", kind, deep, err + ".*nested too deeply"),
            BadInput(f"{kind}-not-json", kind, "hello", err + "evidence is not JSON"),
            BadInput(f"{kind}-empty", kind, "", err + "evidence is not JSON"),
            BadInput(f"{kind}-a-list", kind, "[]", err + "not a flywheel-harness report"),
            BadInput(
                f"{kind}-wrong-schema",
                kind,
                json.dumps({**good, "schema": "x"}),
                err + "not a flywheel-harness report",
            ),
            BadInput(
                f"{kind}-results-not-list",
                kind,
                json.dumps({**good, "results": {}}),
                err + ".*no results list",
            ),
            BadInput(
                f"{kind}-result-not-object",
                kind,
                json.dumps({**good, "results": [1]}),
                err + ".*malformed",
            ),
            BadInput(
                f"{kind}-bad-status",
                kind,
                json.dumps({**good, "results": [{"suite": "a", "case": "b", "status": "great"}]}),
                err + ".*malformed",
            ),
            BadInput(
                f"{kind}-huge-number",
                kind,
                '{"schema": "flywheel-harness/report@1", "results": [], "n": 1' + "0" * 5000 + "}",
                err + "evidence is not JSON",
            ),
            BadInput(f"{kind}-not-utf8", kind, "", err + ".*UTF-8", data=b'{"schema": "\xff"}'),
        ]
    return cases


def _tf_cases() -> list[BadInput]:
    warn = r"infra/main\.tf(:\d+)?(:\d+)?: warning: "
    return [
        BadInput(
            "tf-syntax",
            "tf",
            'terraform {\n  backend "s3" {\n',
            warn + "cannot parse as HCL.*STATE003",
            1,
        ),
        BadInput(
            "tf-huge",
            "tf",
            "# " + "x" * 5_000_000 + "\n",
            warn + ".*over the 4194304-byte limit",
            1,
        ),
        BadInput("tf-binary", "tf", "", warn + ".*STATE003", 1, data=b"\x00\x01\x02terraform {"),
    ]


def _argv_cases() -> list[BadInput]:
    check = "check --repo {repo} --suite workflows "
    return [
        BadInput(
            "output-is-a-folder",
            "argv",
            check + "--output {tmp}",
            r"^--output .*: is a folder, not a file$",
        ),
        BadInput(
            "output-under-a-file",
            "argv",
            check + "--output {file}/x/report.txt",
            r"^--output .*: .* is a file, not a folder$",
        ),
        BadInput(
            "evidence-is-a-folder",
            "argv",
            check + "--evidence {tmp}",
            r"^--evidence .*: is a folder, not a file$",
        ),
        BadInput(
            "evidence-under-a-file",
            "argv",
            check + "--evidence {file}/e.json",
            r"^--evidence .*: .* is a file, not a folder$",
        ),
        BadInput(
            "artifacts-dir-is-a-file",
            "argv",
            check + "--artifacts-dir {file}",
            r"^--artifacts-dir .*: is a file, not a folder$",
        ),
        BadInput(
            "artifacts-dir-under-a-file",
            "argv",
            check + "--artifacts-dir {file}/a",
            r"^--artifacts-dir .*: .* is a file, not a folder$",
        ),
        BadInput(
            "output-is-dev-null-dir",
            "argv",
            check + "--output /dev/null/x",
            r"^--output /dev/null/x: /dev/null is a file, not a folder$",
        ),
        BadInput(
            "kubectl-file-missing",
            "argv",
            check + "--kubectl-file {tmp}/missing.json",
            r"^--kubectl-file .*missing\.json: cannot read: No such file or directory$",
        ),
        BadInput(
            "kubectl-file-a-folder",
            "argv",
            check + "--kubectl-file {tmp}",
            r"^--kubectl-file .*: is a directory, not a file$",
        ),
        BadInput(
            "kubectl-file-dev-zero",
            "argv",
            check + "--kubectl-file /dev/zero",
            r"^--kubectl-file /dev/zero: is not a regular file",
        ),
        BadInput(
            "metrics-file-missing",
            "argv",
            check + "--metrics-file {tmp}/nope.prom",
            r"^--metrics-file .*nope\.prom: cannot read",
        ),
        BadInput(
            "contract-dev-zero",
            "argv",
            check + "--contract /dev/zero",
            r"^/dev/zero: cannot read contract: is not a regular file",
        ),
        BadInput(
            "contract-missing",
            "argv",
            check + "--contract {tmp}/nope.yaml",
            r"nope\.yaml: cannot read contract: .*No such file",
        ),
        BadInput(
            "contract-a-folder",
            "argv",
            check + "--contract {tmp}",
            r"cannot read contract: is a directory",
        ),
        BadInput(
            "gate-evidence-dev-zero",
            "argv",
            "gate --repo {repo} --evidence /dev/zero",
            r"^/dev/zero: cannot read evidence: is not a regular file",
        ),
        BadInput(
            "gate-evidence-missing",
            "argv",
            "gate --repo {repo} --evidence {tmp}/no.json",
            r"no\.json: cannot read evidence: .*No such file",
        ),
        BadInput(
            "render-output-a-folder",
            "argv",
            "evidence render {file} -o {tmp}",
            r"^-o/--output .*: is a folder, not a file$",
        ),
        BadInput(
            "merge-output-under-a-file",
            "argv",
            "evidence merge {file} -o {file}/m.json",
            r"^-o/--output .*: .* is a file, not a folder$",
        ),
        BadInput(
            "measure-limit-1e999999Gi",
            "argv",
            "measure --limit 1e999999Gi -- true",
            r"^--limit: quantity 1e999999Gi is over the largest accepted, 8Ei$",
        ),
        BadInput(
            "measure-limit-1e400Gi",
            "argv",
            "measure --limit 1e400Gi -- true",
            r"^--limit: quantity 1e400Gi is over the largest accepted, 8Ei$",
        ),
        BadInput("measure-limit-negative", "argv", "measure --limit=-1Gi -- true", r"^--limit: "),
        BadInput(
            "measure-interval-inf",
            "argv",
            "measure --limit 1Gi --interval inf -- true",
            r"^--interval inf: must be over 0",
        ),
        BadInput(
            "measure-timeout-nan",
            "argv",
            "measure --limit 1Gi --timeout nan -- true",
            r"^--timeout nan: must be over 0",
        ),
        BadInput(
            "measure-chart-a-folder",
            "argv",
            "measure --limit 1Gi --chart {tmp} -- true",
            r"^--chart .*: is a folder, not a file$",
        ),
        BadInput(
            "measure-output-under-a-file",
            "argv",
            "measure --limit 1Gi --output {file}/r.txt -- true",
            r"^--output .*: .* is a file, not a folder$",
        ),
        BadInput(
            "repo-missing",
            "argv",
            "check --repo {tmp}/nowhere --suite workflows",
            r"^--repo .*nowhere: repository directory does not exist$",
        ),
        BadInput(
            "repo-not-a-repository",
            "argv",
            "check --repo {tmp}/empty --suite workflows",
            r"^--repo .*empty: not a repository",
        ),
        BadInput(
            "unknown-suite",
            "argv",
            check + "--suite placment",
            r"unknown suite\(s\) placment; known: ",
        ),
    ]


def corpus(bundled_contract: str) -> list[BadInput]:
    """Every case."""
    return [
        *_workflow_cases(),
        *_matrix_cases(),
        *_contract_cases(bundled_contract),
        *_scenario_cases(),
        *_evidence_cases(),
        *_tf_cases(),
        *_argv_cases(),
    ]
