"""OpenTofu/Terraform reading with tree-sitter-hcl: stacks, backends, variables and modules."""

from harness.tofu.hcl import Attribute, Block, Expr, HclFile, HclProblem, Template, read_hcl
from harness.tofu.stacks import Backend, Setting, Stack, TofuDir, TofuRepo, load_tofu
from harness.tofu.values import Origin, Resolved, Scope, resolve

__all__ = [
    "Attribute",
    "Backend",
    "Block",
    "Expr",
    "HclFile",
    "HclProblem",
    "Origin",
    "Resolved",
    "Scope",
    "Setting",
    "Stack",
    "Template",
    "TofuDir",
    "TofuRepo",
    "load_tofu",
    "read_hcl",
    "resolve",
]
