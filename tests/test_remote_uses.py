"""Remote reusable workflows and actions: sources, refs, cache, API, WF003/WF004, callers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.engine import make_context, run_case
from harness.github.uses import ContentsApi, UsesCache, UsesResolver, parse_uses
from harness.github.uses.resolver import Resolved, Unresolved
from harness.github.uses.sources import LocalSource
from harness.options import Options
from harness.report.build import build_report
from harness.results import CaseResult, Finding
from harness.scenario import Case
from tests.helpers.cli import run_harness
from tests.helpers.uses import commit, contents_api, git, git_repo

SPOKE = """\
    on:
      workflow_call:
        inputs:
          runner: {type: string, default: tinyland-nix}
    jobs:
      build:
        runs-on: ${{ inputs.runner }}
        steps:
          - uses: actions/checkout@v4
          - uses: octo/templates/.github/actions/setup-nix@v1
          - run: nix build .#default
    """
SETUP_NIX = """\
    name: setup nix (detect or install)
    runs:
      using: composite
      steps:
        - id: detect
          shell: bash
          run: if command -v nix; then echo installed=true >> "$GITHUB_OUTPUT"; fi
        - if: steps.detect.outputs.installed != 'true'
          uses: DeterminateSystems/nix-installer-action@v16
    """
INSTALL_NIX = """\
    name: install nix
    runs:
      using: composite
      steps:
        - uses: DeterminateSystems/nix-installer-action@v16
    """
TEMPLATES = {
    ".github/workflows/spoke-ci.yml": SPOKE,
    ".github/actions/setup-nix/action.yml": SETUP_NIX,
    ".github/actions/install-nix/action.yml": INSTALL_NIX,
}


def caller(root: Path, uses: str, extra: dict[str, str] | None = None) -> Path:
    """A downstream repository whose whole CI is one remote reusable workflow."""
    return git_repo(
        root,
        {
            ".github/workflows/ci.yml": f"""\
        on: [push]
        jobs:
          ci:
            uses: {uses}
        """,
            **(extra or {}),
        },
        origin="https://github.com/octo/caller.git",
    )


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    """The templates repository: v1 installs unconditionally, main detects-or-installs."""
    root = git_repo(
        tmp_path / "templates",
        {
            **TEMPLATES,
            ".github/actions/setup-nix/action.yml": INSTALL_NIX,
        },
        origin="git@github.com:octo/templates.git",
    )
    git(root, "tag", "v1")
    commit(root, {".github/actions/setup-nix/action.yml": SETUP_NIX}, "detect or install")
    return root


def run(repo: Path, check: str, **options: object) -> CaseResult:
    ctx = make_context(repo, None, Options(**options))  # type: ignore[arg-type]
    result = run_case(ctx, "test", Case(name="case", check=check, line=1))
    assert result.status.value in ("passed", "failed"), result.reason
    run.last_ctx = ctx  # type: ignore[attr-defined]
    return result


def rules(result: CaseResult) -> list[tuple[str, str | None]]:
    return sorted((f.rule, f.file) for f in result.findings)


def sources_of(repo: Path, **options: object) -> list[dict[str, object]]:
    ctx = make_context(repo, None, Options(**options))  # type: ignore[arg-type]
    ctx.workflows  # noqa: B018
    report = build_report(ctx, [])
    sources: list[dict[str, object]] = report.to_json()["sources"]
    return sources


def test_references_parse() -> None:
    ref = parse_uses("octo/templates/.github/actions/setup-nix@v3")
    assert ref is not None and (ref.name, ref.path, ref.ref) == (
        "octo/templates",
        ".github/actions/setup-nix",
        "v3",
    )
    assert parse_uses("octo/action@v1").path == ""  # type: ignore[union-attr]
    for bad in ("./local", "docker://alpine:3", "octo@v1", "octo/x/../y@v1", None, "o/r"):
        assert parse_uses(bad) is None


def test_caller_is_checked_at_the_pinned_sha_through_a_local_clone(
    tmp_path: Path, templates: Path
) -> None:
    old = git(templates, "rev-parse", "v1")
    repo = caller(tmp_path / "caller", f"octo/templates/.github/workflows/spoke-ci.yml@{old}")
    source = (("octo/templates", templates),)
    # at v1's SHA setup-nix installs unconditionally: nothing to find
    assert run(repo, "bootstrap.workflow_owned_nix", uses_sources=source).findings == []
    assert sources_of(repo, uses_sources=source) == [
        {
            "uses": f"octo/templates/.github/workflows/spoke-ci.yml@{old}",
            "resolved_commit": old,
            "from": "dir",
        },
        {
            "uses": "octo/templates/.github/actions/setup-nix/action.yml@v1",
            "resolved_commit": old,
            "from": "dir",
        },
    ]
    # the tag moves to the detect-or-install commit: the same caller now gets BOOT002
    git(templates, "tag", "-f", "v1", "main")
    found = run(repo, "bootstrap.workflow_owned_nix", uses_sources=source).findings
    assert [(f.rule, f.severity.value, f.file, f.job) for f in found] == [
        ("BOOT002", "error", f"octo/templates/.github/workflows/spoke-ci.yml@{old}", "ci/build")
    ]
    assert "`octo/templates/.github/actions/setup-nix@v1`" in found[0].message
    assert "`if: steps.detect.outputs.installed != 'true'`" in found[0].message
    assert "octo/templates/.github/actions/setup-nix/action.yml@v1:8" in found[0].message


def test_templates_repository_resolves_its_own_actions_from_itself(templates: Path) -> None:
    write_self = {
        ".github/workflows/self.yml": """\
        on: [push]
        jobs:
          check:
            runs-on: tinyland-nix
            steps:
              - uses: octo/templates/.github/actions/install-nix@v1
              - run: nix flake check
        """
    }
    commit(templates, write_self, "self check")
    git(templates, "tag", "-f", "v1")
    result = run(templates, "bootstrap.workflow_owned_nix")
    assert [f for f in result.findings if f.file == ".github/workflows/self.yml"] == []
    sources = sources_of(templates)
    assert {
        "uses": "octo/templates/.github/actions/install-nix/action.yml@v1",
        "resolved_commit": git(templates, "rev-parse", "HEAD"),
        "from": "self",
    } in sources


def test_a_ref_missing_from_the_clone_reads_the_working_tree_with_a_note(templates: Path) -> None:
    repo = templates
    commit(
        repo,
        {
            ".github/workflows/self.yml": """\
        on: [push]
        jobs:
          check:
            runs-on: ubuntu-latest
            steps:
              - uses: octo/templates/.github/actions/install-nix@v9
              - run: nix flake check
        """
        },
        "self check at a tag not fetched",
    )
    assert run(repo, "bootstrap.workflow_owned_nix").findings == []
    entry = next(s for s in sources_of(repo) if "install-nix" in str(s["uses"]))
    assert entry["from"] == "self" and entry["resolved_commit"] is None
    assert "v9 is not in the clone" in str(entry["note"])


def test_plain_directory_bare_clone_and_branch_sources(tmp_path: Path, templates: Path) -> None:
    plain = tmp_path / "plain"
    for name, text in TEMPLATES.items():
        (plain / name).parent.mkdir(parents=True, exist_ok=True)
        (plain / name).write_text(text.replace("    ", "", 0))
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(templates), str(bare))
    repo = caller(tmp_path / "caller", "octo/templates/.github/workflows/spoke-ci.yml@main")
    from_plain = sources_of(repo, uses_sources=(("octo/templates", plain),))
    assert from_plain[0]["from"] == "dir" and "not a git repository" in str(from_plain[0]["note"])
    from_bare = sources_of(repo, uses_sources=(("octo/templates", bare),))
    assert from_bare[0]["resolved_commit"] == git(templates, "rev-parse", "main")


def test_offline_without_a_source_is_wf004(tmp_path: Path) -> None:
    repo = caller(tmp_path / "caller", "octo/templates/.github/workflows/spoke-ci.yml@v1")
    result = run(repo, "workflows.remote_uses", offline=True)
    assert [(f.rule, f.severity.value, f.file, f.line) for f in result.findings] == [
        ("WF004", "warning", ".github/workflows/ci.yml", 4)
    ]
    assert "offline" in result.findings[0].message
    assert result.status.value == "passed"


def test_nested_remote_calls_and_workspace_actions(tmp_path: Path) -> None:
    inner = git_repo(
        tmp_path / "inner",
        {
            ".github/workflows/inner.yml": """\
            on: workflow_call
            jobs:
              deep:
                uses: ./.github/workflows/leaf.yml
            """,
            ".github/workflows/leaf.yml": """\
            on: workflow_call
            jobs:
              leaf:
                runs-on: tinyland-nix
                steps:
                  - uses: ./.github/actions/local-nix
                  - run: nix build
            """,
        },
    )
    git(inner, "tag", "v2")
    outer = git_repo(
        tmp_path / "outer",
        {
            ".github/workflows/outer.yml": """\
        on: workflow_call
        jobs:
          mid:
            uses: octo/inner/.github/workflows/inner.yml@v2
        """
        },
    )
    # the `./` action of the called workflow is the caller's: it does not install Nix
    repo = caller(
        tmp_path / "caller",
        "octo/outer/.github/workflows/outer.yml@main",
        {
            ".github/actions/local-nix/action.yml": "runs: {using: composite, steps: "
            "[{shell: bash, run: echo no install}]}\n"
        },
    )
    sources = (("octo/inner", inner), ("octo/outer", outer))
    found = run(repo, "bootstrap.workflow_owned_nix", uses_sources=sources).findings
    assert [(f.rule, f.file, f.job) for f in found] == [
        ("BOOT001", "octo/inner/.github/workflows/leaf.yml@v2", "ci/mid/deep/leaf")
    ]


def test_call_cycles_across_repositories_end_with_wf003(tmp_path: Path) -> None:
    a = git_repo(
        tmp_path / "a",
        {
            ".github/workflows/a.yml": """\
        on: workflow_call
        jobs:
          to-b: {uses: octo/b/.github/workflows/b.yml@main}
        """
        },
    )
    b = git_repo(
        tmp_path / "b",
        {
            ".github/workflows/b.yml": """\
        on: workflow_call
        jobs:
          to-a: {uses: octo/a/.github/workflows/a.yml@main}
        """
        },
    )
    repo = caller(tmp_path / "caller", "octo/a/.github/workflows/a.yml@main")
    found = run(repo, "workflows.needs", uses_sources=(("octo/a", a), ("octo/b", b))).findings
    assert [(f.rule, f.file) for f in found] == [("WF003", "octo/b/.github/workflows/b.yml@main")]
    assert "cycle" in found[0].message


def test_nesting_beyond_ten_levels_is_wf003(tmp_path: Path) -> None:
    files = {
        f".github/workflows/l{i}.yml": (
            f"on: workflow_call\njobs:\n  j{i}: {{uses: ./.github/workflows/l{i + 1}.yml}}\n"
        )
        for i in range(1, 12)
    }
    files[".github/workflows/l12.yml"] = (
        "on: workflow_call\njobs:\n  end: {runs-on: x, steps: [{run: echo}]}\n"
    )
    deep = git_repo(tmp_path / "deep", files)
    repo = caller(tmp_path / "caller", "octo/deep/.github/workflows/l1.yml@main")
    found = run(repo, "workflows.needs", uses_sources=(("octo/deep", deep),)).findings
    assert [f.rule for f in found] == ["WF003"]
    assert "level 11 of nested workflows" in found[0].message


def test_javascript_and_docker_actions_are_read_for_runs_using(tmp_path: Path) -> None:
    tools = git_repo(
        tmp_path / "tools",
        {
            "node/action.yml": "name: n\nruns: {using: node20, main: index.js}\n",
            "box/action.yml": "name: d\nruns: {using: docker, image: Dockerfile}\n",
        },
    )
    repo = caller(
        tmp_path / "caller",
        "octo/none/.github/workflows/x.yml@v1",
        {
            ".github/workflows/steps.yml": """\
            on: [push]
            jobs:
              j:
                runs-on: ubuntu-latest
                steps:
                  - uses: octo/tools/node@main
                  - uses: octo/tools/box@main
            """
        },
    )
    ctx = make_context(repo, None, Options(uses_sources=(("octo/tools", tools),), offline=True))
    actions = ctx.workflows.actions
    assert actions["octo/tools/node@main"].using == "node20"  # type: ignore[union-attr]
    assert actions["octo/tools/box@main"].using == "docker"  # type: ignore[union-attr]


def test_one_finding_per_place_with_callers(tmp_path: Path, templates: Path) -> None:
    git(templates, "tag", "-f", "v1", "main")
    repo = caller(
        tmp_path / "caller",
        "octo/templates/.github/workflows/spoke-ci.yml@v1",
        {
            f".github/workflows/{name}.yml": f"""\
            on: [push]
            jobs:
              {name}:
                uses: octo/templates/.github/workflows/spoke-ci.yml@v1
            """
            for name in ("two", "three")
        },
    )
    result = run(
        repo, "bootstrap.workflow_owned_nix", uses_sources=(("octo/templates", templates),)
    )
    assert len(result.findings) == 1
    assert result.findings[0].callers == ["ci/build", "three/build", "two/build"]
    assert result.findings[0].to_json()["callers"] == ["ci/build", "three/build", "two/build"]


# -- the contents API, the cache and the resolver ---------------------------------------


def api_resolver(
    tmp_path: Path, url: str, *, ttl: float = 3600.0, token: str | None = None
) -> UsesResolver:
    return UsesResolver(
        [], UsesCache(tmp_path / "cache", ttl), ContentsApi(url, token=token), offline=False
    )


@pytest.mark.parametrize("json_answers", [False, True])
def test_api_raw_and_base64_json(tmp_path: Path, json_answers: bool) -> None:
    sha = "a" * 40
    with contents_api() as api:
        api.json_answers = json_answers
        api.files[("octo/t", ".github/workflows/x.yml", "v1")] = "on: workflow_call\n"
        api.commits[("octo/t", "v1")] = sha
        resolver = api_resolver(tmp_path, api.url, token="s3cret-token")
        found = resolver.resolve(parse_uses("octo/t/.github/workflows/x.yml@v1"))  # type: ignore[arg-type]
        assert isinstance(found, Resolved)
        assert (found.text, found.commit, found.origin) == ("on: workflow_call\n", sha, "api")
        assert api.authorizations[0] == "Bearer s3cret-token"
        # a second resolver (a second run) is served by the cache: no request at all
        before = len(api.requests)
        ref = parse_uses("octo/t/.github/workflows/x.yml@v1")
        assert ref is not None
        again = api_resolver(tmp_path, api.url).resolve(ref)
        assert isinstance(again, Resolved) and again.origin == "cache" and again.commit == sha
        assert len(api.requests) == before


@pytest.mark.parametrize(
    ("status", "kind", "words"),
    [
        (404, "not-found", "HTTP 404"),
        (401, "unauthorized", "HTTP 401"),
        (403, "rate-limited", "rate limit exhausted until 2030-03-17 17:46:40 UTC"),
    ],
)
def test_api_failures_are_named(tmp_path: Path, status: int, kind: str, words: str) -> None:
    with contents_api() as api:
        if status != 404:
            api.status = status
        resolver = api_resolver(tmp_path, api.url, token="s3cret-token")
        found = resolver.resolve(parse_uses("octo/t/a@v1"))  # type: ignore[arg-type]
    assert isinstance(found, Unresolved) and found.kind == kind
    assert words in found.reason and "s3cret" not in found.reason


def test_moved_tag_is_refetched_after_the_ttl_but_a_sha_never(tmp_path: Path) -> None:
    sha = "b" * 40
    with contents_api() as api:
        api.files[("octo/t", "w.yml", "v1")] = "old\n"
        api.files[("octo/t", "w.yml", sha)] = "pinned\n"
        for ttl in (3600.0, 0.0):
            resolver = api_resolver(tmp_path, api.url, ttl=ttl)
            for uses in ("octo/t/w.yml@v1", f"octo/t/w.yml@{sha}"):
                resolver.resolve(parse_uses(uses))  # type: ignore[arg-type]
            api.files[("octo/t", "w.yml", "v1")] = "moved\n"
        fresh = api_resolver(tmp_path, api.url, ttl=0.0)
        found = fresh.resolve(parse_uses("octo/t/w.yml@v1"))  # type: ignore[arg-type]
        pinned = fresh.resolve(parse_uses(f"octo/t/w.yml@{sha}"))  # type: ignore[arg-type]
    assert isinstance(found, Resolved) and found.text == "moved\n" and found.origin == "api"
    assert isinstance(pinned, Resolved) and pinned.origin == "cache"


def test_caller_checked_through_the_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    sha = "c" * 40
    repo = caller(tmp_path / "caller", f"octo/templates/.github/workflows/spoke-ci.yml@{sha}")
    with contents_api() as api:
        api.files[("octo/templates", ".github/workflows/spoke-ci.yml", sha)] = SPOKE.replace(
            "\n    ", "\n"
        )[4:]
        api.files[("octo/templates", ".github/actions/setup-nix/action.yml", "v1")] = (
            SETUP_NIX.replace("\n    ", "\n")[4:]
        )
        first = run(repo, "bootstrap.workflow_owned_nix", github_api=api.url)
        count = len(api.requests)
        second = run(repo, "bootstrap.workflow_owned_nix", github_api=api.url, offline=True)
        assert len(api.requests) == count  # cached: the second run asks nothing
    assert [f.rule for f in first.findings] == [f.rule for f in second.findings] == ["BOOT002"]


def test_local_source_reads_tags_and_remote_tracking_branches(
    tmp_path: Path, templates: Path
) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(templates), str(clone))
    git(templates, "checkout", "-q", "-b", "feature")
    commit(templates, {"extra.yml": "x: 1\n"}, "feature")
    git(clone, "fetch", "-q", "origin")
    source = LocalSource("octo/templates", clone)
    found = source.read(parse_uses("octo/templates/extra.yml@feature"))  # type: ignore[arg-type]
    assert not isinstance(found, str) and found.text == "x: 1\n"
    missing = source.read(parse_uses("octo/templates/nope.yml@v1"))  # type: ignore[arg-type]
    assert missing == "nope.yml is not in octo/templates at v1"


def test_report_json_carries_sources(tmp_path: Path, templates: Path) -> None:
    repo = caller(tmp_path / "caller", "octo/templates/.github/workflows/spoke-ci.yml@v1")
    ctx = make_context(repo, None, Options(uses_sources=(("octo/templates", templates),)))
    case = Case("workflow-owned-nix", "bootstrap.workflow_owned_nix", 1)
    result = run_case(ctx, "bootstrap", case)
    data = json.loads(json.dumps(build_report(ctx, [result]).to_json()))
    assert [s["from"] for s in data["sources"]] == ["dir", "dir"]
    assert Finding("X", "m").to_json().get("callers", "absent") == "absent"


def test_server_errors_are_retried_then_named(tmp_path: Path) -> None:
    with contents_api() as api:
        api.status = 500
        found = api_resolver(tmp_path, api.url).resolve(parse_uses("octo/t/a@v1"))  # type: ignore[arg-type]
        assert len(api.requests) == 3
    assert isinstance(found, Unresolved) and found.kind == "error"
    assert "failed after 3 attempts (HTTP 500)" in found.reason


def test_cli_token_never_printed_and_bad_flags_are_input_errors(tmp_path: Path) -> None:

    repo = caller(tmp_path / "caller", "octo/templates/.github/workflows/spoke-ci.yml@v1")
    token = {"GITHUB_TOKEN": "ghp_s3cretvalue"}
    with contents_api() as api:
        api.status = 401
        done = run_harness(
            "check",
            "--repo",
            str(repo),
            "--suite",
            "workflows",
            "--github-api",
            api.url,
            "--format",
            "json",
            env=token,
        )
        assert api.authorizations == ["Bearer ghp_s3cretvalue"]
    assert done.returncode == 0
    assert "HTTP 401" in done.stdout and "s3cret" not in done.stdout + done.stderr
    bad = run_harness("check", "--repo", str(repo), "--uses-source", "octo/templates", env=token)
    assert bad.returncode == 2
    assert bad.stderr.strip().endswith("--uses-source must be OWNER/REPO=DIR, got 'octo/templates'")


def test_a_resolver_crosses_a_process_pool_boundary(tmp_path: Path) -> None:
    import pickle

    with contents_api() as api:
        api.files[("octo/t", "w.yml", "v1")] = "on: push\n"
        resolver = api_resolver(tmp_path, api.url)
        assert isinstance(resolver.resolve(parse_uses("octo/t/w.yml@v1")), Resolved)  # type: ignore[arg-type]
        copy = pickle.loads(pickle.dumps(resolver))
        other = copy.for_repository("octo/other", tmp_path)
        found = other.resolve(parse_uses("octo/t/w.yml@v1"))
    assert isinstance(found, Resolved) and found.origin == "cache"
