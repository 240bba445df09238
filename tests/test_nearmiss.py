"""Near misses: WF002 names the one existing path a mistyped `uses:` is one edit from."""

from __future__ import annotations

from pathlib import Path

from harness.checks.workflows import check_local_uses
from harness.engine import make_context
from harness.nearmiss import did_you_mean, one_edit_away, single_near_miss
from tests.helpers.repos import write_repo

ACTION = "runs: {using: composite, steps: [{run: echo hi, shell: bash}]}\n"


def test_one_edit_means_exactly_one() -> None:
    names = ["tinyland-nix", "tinyland-nix-heavy", "tinyland-nix-kvm"]
    assert one_edit_away("tinyland-nx", names) == ["tinyland-nix"]
    assert single_near_miss("tinyland-nix-kvn", names) == "tinyland-nix-kvm"
    assert single_near_miss("tinyland-nix", names) is None  # the name itself
    assert single_near_miss("ab", ["ac", "ad"]) is None  # two candidates
    assert did_you_mean("x", ["yyy"]) == ""


def test_wf002_says_did_you_mean_for_a_missing_dot(tmp_path: Path) -> None:
    repo = write_repo(
        tmp_path,
        {
            ".github/actions/setup-flywheel/action.yml": ACTION,
            ".github/workflows/ci.yml": """\
            on: push
            jobs:
              build:
                runs-on: tinyland-nix
                steps:
                  - uses: ./github/actions/setup-flywheel
                  - uses: ./.github/actions/nothing-near
              call:
                uses: ./.github/workflows/reuse.yaml
            """,
            ".github/workflows/reuse.yml": "on: workflow_call\njobs: {}\n",
        },
    )
    messages = sorted(f.message for f in check_local_uses(make_context(repo), {}).findings)
    assert len(messages) == 3
    assert messages[0].endswith("(did you mean `./.github/workflows/reuse.yml`?)")
    assert messages[1].endswith("does not exist")
    assert messages[2].endswith("(did you mean `./.github/actions/setup-flywheel`?)")
