"""OpenTofu reading (tree-sitter-hcl) and STATE001-003 / CLUSTER001 on fixture repos."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.checks.api import CheckFn, Skip
from harness.checks.state import check_agreement, check_backend, check_cluster_context
from harness.engine import make_context
from harness.results import CheckOutput, Severity
from harness.tofu import Expr, HclProblem, Template, load_tofu, read_hcl
from harness.tofu.hcl import parse_text

FIXTURES = Path(__file__).parent / "fixtures" / "repos"
FLEET = FIXTURES / "tofu_fleet"
DRIFT = FIXTURES / "tofu_drift"
RUNNERS = "tofu/stacks/arc-runners"


def run(check: CheckFn, repo: Path, **params: object) -> CheckOutput:
    return check(make_context(repo), params)


def summary(out: CheckOutput) -> list[tuple[str, str | None, int | None]]:
    return sorted((f.rule, f.file, f.line) for f in out.findings)


def test_hcl_values_keep_literals_and_expressions_apart() -> None:
    parsed = parse_text(
        'module "m" {\n  source = "./x"\n  a = var.b\n  c = "pre-${each.key}"\n'
        '  d = { "k.io/x" = 1, y = [true, null] }\n}\n',
        "main.tf",
    )
    module = parsed.blocks[0]
    assert (module.type, module.labels, module.line) == ("module", ("m",), 1)
    assert module.get("source") == "./x"
    assert module.get("a") == Expr("var.b")
    assert module.get("c") == Template("pre-${each.key}")
    assert module.get("d") == {"k.io/x": 1, "y": [True, None]}
    assert [module.line_of(n) for n in ("source", "a", "c", "d")] == [2, 3, 4, 5]


def test_hcl_strings_heredocs_and_numbers_read_as_opentofu_reads_them() -> None:
    parsed = parse_text(
        'locals {\n  a = "q\\"x\\" \\u00e9 $${lit}"\n  b = <<-EOT\n    one\n'
        "      two ${var.x}\n  EOT\n  c = -2\n  d = 1.5e3\n"
        "  e = var.on ? 1 : 0\n  f = [for x in var.l : x]\n}\n"
        'variable "v" {\n  type = string\n}\n',
        "main.tf",
    )
    local, variable = parsed.blocks
    assert local.get("a") == 'q"x" \u00e9 ${lit}'
    assert local.get("b") == Template("one\n  two ${var.x}\n")
    assert (local.get("c"), local.get("d")) == (-2, 1500.0)
    assert local.get("e") == Expr("var.on ? 1 : 0")
    assert local.get("f") == Expr("[for x in var.l : x]")
    assert [local.line_of(n) for n in "abcdef"] == [2, 3, 7, 8, 9, 10]
    assert variable.get("type") == "string"


def test_unclosed_block_is_a_problem_with_the_line_of_the_error(tmp_path: Path) -> None:
    path = tmp_path / "open.tf"
    path.write_text('module "m" {\n  source = "./x"\n\nresource "a" "b" {\n  x = [1,\n}\n')
    problem = read_hcl(path, "open.tf")
    assert isinstance(problem, HclProblem) and problem.line is not None
    assert problem.message.startswith("cannot parse as HCL: syntax error")


def test_unparsable_file_is_a_problem_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.tf"
    path.write_text('variable "x" {\n  default = \n}\n')
    problem = read_hcl(path, "bad.tf")
    assert isinstance(problem, HclProblem)
    assert problem.file == "bad.tf" and problem.line == 2


def test_stacks_modules_and_tfvars_precedence() -> None:
    tofu = load_tofu(FLEET)
    assert sorted(s.path for s in tofu.stacks) == [RUNNERS, "tofu/stacks/attic"]
    assert "tofu/modules/arc-runner" in tofu.modules
    stack = next(s for s in tofu.stacks if s.path == RUNNERS)
    assert [f.path.rsplit("/", 1)[1] for f in stack.tfvars] == [
        "terraform.tfvars",
        "zz-capacity.auto.tfvars",
    ]  # never the .example
    scope = stack.scope()
    memory = scope.variables["nix_memory_limit"]  # default 16Gi, tfvars 8Gi
    assert memory.value == "8Gi"
    assert memory.origin is not None and memory.origin.file == f"{RUNNERS}/terraform.tfvars"
    heavy = scope.variables["heavy_max_runners"]  # default 6, tfvars 4, auto 2
    assert heavy.value == 2 and heavy.origin is not None
    assert heavy.origin.file.endswith("zz-capacity.auto.tfvars")
    assert scope.variables["cluster_context"].value == "honey"  # the example says kind-dev
    assert stack.backend is not None and stack.backend.type == "s3"


def test_fleet_repository_passes() -> None:
    for check in (check_backend, check_agreement, check_cluster_context):
        out = run(check, FLEET)
        assert out.findings == [], (check.__name__, out.findings)


def test_backend_findings() -> None:
    out = run(check_backend, DRIFT)
    assert summary(out) == [
        ("STATE001", "infra/stacks/legacy/backend.tf", 3),  # backend "http"
        ("STATE001", "infra/stacks/scratch/main.tf", 1),  # no backend block
        ("STATE003", "infra/stacks/broken/extra.tf", 2),  # unparsable, not a crash
    ]
    assert next(f for f in out.findings if f.rule == "STATE003").severity is Severity.WARNING


def test_agreement_findings() -> None:
    out = run(check_agreement, DRIFT)
    assert summary(out) == [
        ("STATE002", "infra/stacks/cache/main.tf", 3),  # bucket old-tofu-state
        ("STATE002", "infra/stacks/runners/main.tf", 4),  # key shared with cache-copy
    ]


def test_cluster_context_from_variable_default() -> None:
    out = run(check_cluster_context, DRIFT)
    assert summary(out) == [("CLUSTER001", "infra/stacks/runners/main.tf", 17)]
    assert "kind-dev" in out.findings[0].message


def test_exclude_param_and_var_file_deployments(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(FLEET, repo)
    (repo / RUNNERS / "beehive.tfvars").write_text('cluster_context = "beehive"\n')
    out = run(check_cluster_context, repo)
    assert summary(out) == [("CLUSTER001", f"{RUNNERS}/beehive.tfvars", 1)]
    assert "-var-file=beehive.tfvars" in out.findings[0].message
    assert run(check_cluster_context, repo, exclude=["tofu/stacks/arc-runners"]).findings == []


def test_contract_endpoint_disagreement(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(FLEET, repo)
    (repo / "fleet.yaml").write_text(
        (Path(__file__).parent.parent / "harness/contract/honey.yaml")
        .read_text()
        .replace(
            "  bucket: honey-tofu-state",
            "  bucket: honey-tofu-state\n  endpoint: https://s3.bumble.honey",
        )
    )
    out = run(check_agreement, repo)
    assert {(f.rule, f.severity) for f in out.findings} == {("STATE002", Severity.WARNING)}
    assert len(out.findings) == 2  # neither stack names the endpoint


def test_skips_without_stacks(tmp_path: Path) -> None:
    (tmp_path / "modules" / "x").mkdir(parents=True)
    (tmp_path / "modules" / "x" / "main.tf").write_text('variable "a" {}\n')
    with pytest.raises(Skip, match="no OpenTofu stacks"):
        run(check_backend, tmp_path)


def test_without_state_section_stacks_must_agree_with_each_other(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(DRIFT, repo)
    text = (Path(__file__).parent.parent / "harness/contract/honey.yaml").read_text()
    head, _, rest = text.partition("state:\n")
    lines = rest.splitlines()
    first = next(i for i, line in enumerate(lines) if not line.startswith(" "))
    tail = "".join(line + "\n" for line in lines[first:])
    (repo / "fleet.yaml").write_text(head + tail)
    ctx = make_context(repo)
    assert ctx.contract.state is None
    out = check_agreement(ctx, {})
    bucket = [f for f in out.findings if "bucket" in f.message]
    assert [(f.file, f.line) for f in bucket] == [("infra/stacks/cache/main.tf", 3)]
    assert "the other stacks'" in bucket[0].message


def test_hcl_it_does_not_model_is_tolerated(tmp_path: Path) -> None:
    stack = tmp_path / "stack"
    stack.mkdir()
    (stack / "main.tf").write_text("""\
terraform {
  backend "s3" {
    bucket    = "honey-tofu-state"
    key       = "odd/terraform.tfstate"
    endpoints = { s3 = "https://s3.bumble" }
  }
}
provider "kubernetes" {
  alias          = "other"
  config_context = local.ctx
}
locals {
  ctx   = "honey"
  names = [for n in var.names : upper(n)]
  all   = aws_instance.x[*].id
}
variable "names" {
  default = ["a", "b"]
}
data "x" "y" {
  z = <<-EOT
    hello ${var.names[0]}
  EOT
}
check "c" {
  assert {
    condition     = length(var.names) > 0
    error_message = "names"
  }
}
""")
    (stack / "terraform.tfvars.json").write_text('{"names": ["c"]}')
    tofu = load_tofu(tmp_path)
    assert tofu.problems == []
    assert tofu.stacks[0].scope().variables["names"].value == ["c"]
    assert run(check_cluster_context, tmp_path).findings == []
    assert run(check_backend, tmp_path).findings == []


def test_context_variable_without_provider_is_checked(tmp_path: Path) -> None:
    stack = tmp_path / "deploy"
    stack.mkdir()
    (stack / "main.tf").write_text(
        'terraform {\n  backend "s3" {\n    bucket = "honey-tofu-state"\n  }\n}\n'
        'variable "kube_context" {\n  default = "honey"\n}\n'
    )
    assert run(check_cluster_context, tmp_path).findings == []
    (stack / "prod.auto.tfvars").write_text('kube_context = "civo-prod"\n')
    out = run(check_cluster_context, tmp_path)
    assert summary(out) == [("CLUSTER001", "deploy/prod.auto.tfvars", 1)]
