"""The per-rule corpus: every rule has a repository that breaks it and one that keeps it.

`tests/rules/<RULE>/bad/<name>.txtar` and `tests/rules/<RULE>/good/<name>.txtar` are small
repositories in txtar form (see `harness.corpus`): a description, then `-- path --`
sections for the files. A bad example ends with an `-- expected.txt --` section listing
exactly the findings of RULE the harness must report, one `path:line: RULE` per line (sorted;
`-` for a finding with no file), each followed by its exact message when the example is one
the rule catalogue shows. A `-- reasons.txt --` section lists `suite::case: status: reason`
lines the run must report. A good example must report no finding of RULE while the cases
that report it in the bad examples pass (examined something, not skipped).

The examples are kept in txtar so that no `.tf`, workflow or Helm file of the corpus is
ever read when the harness checks this repository itself.

Rules that need a live endpoint, a runner or a measured workload are proven by the tests
named in `COVERED_ELSEWHERE`. A rule id with neither fails `test_every_rule_has_examples`.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.rules import all_rules
from tests.helpers.corpus import CORPUS, Example, examples, finding_lines, reason_lines
from tests.helpers.paths import ROOT

COVERED_ELSEWHERE: dict[str, list[str]] = {
    "MEM004": [
        "tests/test_bad_input_measure.py::test_a_command_that_cannot_start_fails_the_measurement",
        "tests/test_bad_input_measure.py::"
        "test_a_command_that_exits_non_zero_is_mem004_beside_the_memory_verdict",
    ],
    "ATTIC001": [
        "tests/test_attic_loopback.py::test_reachable_and_store_dir",
        "tests/test_attic_faults.py::test_attic_cache_config_key_must_be_in_the_contract",
    ],
    "ATTIC002": [
        "tests/test_attic_loopback.py::test_wrong_public_key_turns_hits_untrusted",
        "tests/test_attic_loopback.py::test_real_nix_signatures_verify",
    ],
    "ATTIC003": [
        "tests/test_attic_loopback.py::test_partial_closure_has_the_exact_ratio",
        "tests/test_attic_loopback.py::test_full_hit_by_count_and_bytes",
    ],
    "ATTIC004": [
        "tests/test_attic_loopback.py::test_substitution_refuses_untrusted_cache",
        "tests/test_attic_loopback.py::test_substitution_into_a_fresh_store",
    ],
    "ATTIC005": [
        "tests/test_attic_loopback.py::test_hung_cache_build_still_succeeds_and_slow_settings_fail",
        "tests/test_attic_loopback.py::test_outage_build_still_succeeds",
    ],
    "BAZEL001": [
        "tests/test_bazel_http.py::test_check_reports_a_dead_cache_from_the_option",
        "tests/test_bazel_http.py::test_nginx_cache_answers_and_round_trips",
    ],
    "BAZEL002": [
        "tests/test_bazel_http.py::test_credentials_never_appear_in_messages",
        "tests/test_bazel_http.py::test_truncated_blobs_and_malformed_results_are_caught",
        "tests/test_bazel_http.py::test_checks_on_the_embedded_default",
    ],
    "BAZEL003": [
        "tests/test_bazel_build.py::test_changing_one_input_gives_a_partial_hit",
        "tests/test_bazel_build.py::test_cold_then_warm_hits_every_cacheable_spawn",
    ],
    "BAZEL004": [
        "tests/test_bazel_build.py::test_builds_survive_refused_500_and_silent_caches",
        "tests/test_bazel_grpc.py::test_grpc_cache_down_at_start",
    ],
    "MEM001": [
        "tests/test_memory_judge.py::test_over_the_envelope_names_the_smallest_lane_that_fits",
        "tests/test_memory_run.py::test_oom_kill_under_exit_zero_fails_mem001",
        "tests/test_memory_judge.py::test_fits_with_margin",
    ],
    "MEM002": [
        "tests/test_memory_judge.py::test_thin_headroom_is_a_warning",
        "tests/test_memory_judge.py::test_fits_with_margin",
    ],
    "MEM003": [
        "tests/test_memory_judge.py::test_light_workload_on_heavy_lane_is_waste",
        "tests/test_memory_judge.py::test_heavy_workload_on_heavy_lane_is_fine",
    ],
    "NIX001": [
        "tests/test_runner_probes.py::test_nix001_check_records_the_before_state",
        "tests/test_runner_probes.py::test_nix001_absent_on_a_bare_root_and_empty_path",
    ],
    "NIX002": [
        "tests/test_runner_probes.py::test_nix002_without_nix_on_path",
        "tests/test_runner_probes.py::"
        "test_nix002_finds_the_attic_substituter_and_key_or_reports_them_missing",
    ],
}
"""Rule id -> tests (`file::function`) that prove it breaks and that it holds."""

ALL_EXAMPLES = examples()


def _run(example: Example, tmp_path: Path) -> dict[str, object]:
    repo = example.materialize(tmp_path / "repo")
    out = tmp_path / "report.json"
    argv = [
        "check",
        "--repo",
        str(repo),
        "--format",
        "json",
        "--output",
        str(out),
        "--artifacts-dir",
        str(tmp_path / "artifacts"),
        *example.args(repo),
    ]
    if "--suite" not in argv:
        argv += ["--suite", example.suite]
    code = main(argv)
    assert code in (0, 1), f"{example.path}: `flywheel-harness {' '.join(argv)}` exited {code}"
    report: dict[str, object] = json.loads(out.read_text(encoding="utf-8"))
    return report


def _cases_reporting(rule: str, report: dict[str, object]) -> set[str]:
    results = report["results"]
    assert isinstance(results, list)
    return {r["case"] for r in results if any(f["rule"] == rule for f in r["findings"])}


def _param(example: Example) -> object:
    """A memory example runs real workloads in memory cgroups."""
    marks = [pytest.mark.needs_cgroup] if example.suite == "memory" else []
    return pytest.param(example, id=example.id, marks=marks)


@pytest.mark.parametrize("example", [_param(e) for e in ALL_EXAMPLES])
def test_example(example: Example, tmp_path: Path) -> None:
    if example.suite == "memory":
        from harness.probes.cgroup import child_parent, own_memory_cgroup
        from tests.helpers.tools import require

        ref, reason = child_parent(own_memory_cgroup())
        require(ref is not None, f"cannot create memory cgroups here: {reason}")
    report = _run(example, tmp_path)
    results = report["results"]
    assert isinstance(results, list)
    errored = [f"{r['case']}: {r['reason']}" for r in results if r["status"] == "error"]
    assert errored == [], f"{example.path}: a case errored"
    repo = (tmp_path / "repo").resolve()
    got = finding_lines(example.rule, report, repo, messages=example.with_messages)
    if example.reasons:
        assert reason_lines(report, example.reasons) == example.reasons, (
            f"{example.path}: case reasons differ from reasons.txt"
        )
    if example.kind == "bad":
        assert got == example.expected, f"{example.path}: findings differ from expected.txt"
        return
    assert got == [], f"{example.path}: a good example reports {example.rule}"
    # Fail closed: the cases that report the rule in the bad examples examined this one
    # (a rule proven by the tests of COVERED_ELSEWHERE may have a good example only).
    bad = next((e for e in ALL_EXAMPLES if e.rule == example.rule and e.kind == "bad"), None)
    if bad is None:
        assert example.rule in COVERED_ELSEWHERE, f"{example.rule}: add a bad example"
        return
    cases = _cases_reporting(example.rule, _run(bad, tmp_path / "bad"))
    status = {r["case"]: r["status"] for r in results}
    assert {case: status.get(case) for case in cases} == dict.fromkeys(cases, "passed"), (
        f"{example.path}: the cases that report {example.rule} did not pass here"
    )


def _test_source(ref: str) -> str | None:
    """The source of the test function `file::name`, None when there is none."""
    file, _, name = ref.partition("::")
    path = ROOT / file
    if not path.is_file():
        return None
    source = path.read_text(encoding="utf-8")
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return ast.get_source_segment(source, node)
    return None


def test_every_rule_has_examples() -> None:
    kinds: dict[str, set[str]] = {}
    for example in ALL_EXAMPLES:
        kinds.setdefault(example.rule, set()).add(example.kind)
    missing = []
    for rule in all_rules():
        if rule.id in COVERED_ELSEWHERE:
            continue
        for kind in ("bad", "good"):
            if kind not in kinds.get(rule.id, set()):
                missing.append(
                    f"{rule.id}: add {CORPUS.relative_to(ROOT)}/{rule.id}/{kind}/<name>.txtar"
                )
    assert missing == [], (
        "every rule needs a repository that breaks it (bad, with an expected.txt section) "
        "and one that keeps it (good), or, for a rule that needs a live endpoint, runner or "
        "measured workload, its tests named in COVERED_ELSEWHERE in tests/test_rule_corpus.py:"
        "\n" + "\n".join(missing)
    )


def test_covered_elsewhere_names_real_tests_of_real_rules() -> None:
    ids = {rule.id for rule in all_rules()}
    assert sorted(set(COVERED_ELSEWHERE) - ids) == []
    sources = {ref: _test_source(ref) for refs in COVERED_ELSEWHERE.values() for ref in refs}
    assert [ref for ref, source in sources.items() if source is None] == []
    unnamed = [
        rule
        for rule, refs in COVERED_ELSEWHERE.items()
        if not any(rule in (sources[ref] or "") for ref in refs)
    ]
    assert unnamed == [], "at least one listed test must assert the rule id"


def test_corpus_directories_are_rules() -> None:
    ids = {rule.id for rule in all_rules()}
    strays = [p.name for p in CORPUS.iterdir() if p.is_dir() and p.name not in ids]
    assert strays == []
