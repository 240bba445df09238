"""PUB003: an installer that logs in to FlakeHub in a non-publish job holding `id-token:
write` puts FlakeHub on the runtime path; a job that never runs is not judged."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.checks.publication import check_not_runtime
from harness.engine import make_context

JOB = """\
name: ci
on: [push]
permissions: {{contents: read}}
jobs:
  build:
    runs-on: tinyland-nix
{extra}    steps:
      - uses: actions/checkout@v4
      - uses: {installer}
{with_}      - run: nix build .#default
"""


def repo_with(
    root: Path,
    installer: str,
    *,
    permissions: str | None = "id-token: write",
    with_: str = "",
    if_: str | None = None,
) -> Path:
    extra = ""
    if if_ is not None:
        extra += f"    if: {if_}\n"
    if permissions is not None:
        extra += f"    permissions: {{{permissions}, contents: read}}\n"
    body = JOB.format(
        extra=extra, installer=installer, with_=textwrap.indent(with_, "        ") if with_ else ""
    )
    path = root / ".github" / "workflows" / "ci.yml"
    path.parent.mkdir(parents=True)
    path.write_text(body)
    return root


def pub003(root: Path) -> list[str]:
    return [
        f.message for f in check_not_runtime(make_context(root), {}).findings if f.rule == "PUB003"
    ]


@pytest.mark.parametrize(
    ("installer", "with_"),
    [
        ("DeterminateSystems/determinate-nix-action@v3", ""),
        ("DeterminateSystems/nix-installer-action@v16", "with:\n  determinate: true\n"),
    ],
)
def test_an_installer_logging_in_with_an_oidc_token_is_pub003(
    tmp_path: Path, installer: str, with_: str
) -> None:
    messages = pub003(repo_with(tmp_path, installer, with_=with_))
    assert len(messages) == 1
    assert "id-token: write" in messages[0] and "logs in to FlakeHub" in messages[0]
    assert installer in messages[0]


def test_without_id_token_the_installer_cannot_log_in(tmp_path: Path) -> None:
    assert (
        pub003(
            repo_with(tmp_path, "DeterminateSystems/determinate-nix-action@v3", permissions=None)
        )
        == []
    )


def test_the_upstream_installer_without_determinate_does_not_log_in(tmp_path: Path) -> None:
    assert pub003(repo_with(tmp_path, "DeterminateSystems/nix-installer-action@v16")) == []


def test_flakehub_true_is_pub003_even_without_id_token(tmp_path: Path) -> None:
    messages = pub003(
        repo_with(
            tmp_path,
            "DeterminateSystems/nix-installer-action@v16",
            permissions=None,
            with_="with:\n  flakehub: true\n",
        )
    )
    assert len(messages) == 1 and "flakehub: true" in messages[0]


@pytest.mark.parametrize("condition", ["false", "${{ false }}", "github.ref == 'x' && false"])
def test_a_job_that_never_runs_gets_no_pub003(tmp_path: Path, condition: str) -> None:
    assert (
        pub003(repo_with(tmp_path, "DeterminateSystems/determinate-nix-action@v3", if_=condition))
        == []
    )
