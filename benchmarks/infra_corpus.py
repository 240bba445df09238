"""A generated repository shaped like the fleet's infra repository, for the OpenTofu benchmark.

About 75 `.tf` files (370 KB of HCL) in modules and stacks, with `terraform.tfvars`,
`*.auto.tfvars`, `*.tfbackend` partial configuration, and six workflows. The HCL uses what
the real repository uses: `map(object({... optional(t, d)}))` variable types, module calls
with `for_each` over them, `yamlencode` Helm values, `dynamic` blocks, `for` expressions,
conditionals, heredocs and templates. Deterministic for a given seed.
"""

from __future__ import annotations

import random
from pathlib import Path

MODULES = (
    "arc-runner",
    "arc-controller",
    "bazel-cache",
    "attic",
    "postgres",
    "minio",
    "monitoring",
    "ingress",
    "cert-manager",
    "dns",
)
STACKS = (
    "arc-runners",
    "arc-controller",
    "attic",
    "bazel-cache",
    "postgres",
    "minio",
    "monitoring",
    "ingress",
    "cert-manager",
    "dns",
    "bootstrap",
    "network",
)
LANES = {
    "tinyland-nix": ("8Gi", 8),
    "tinyland-nix-heavy": ("16Gi", 4),
    "tinyland-docker": ("4Gi", 6),
    "tinyland-dind": ("8Gi", 4),
    "tinyland-nix-kvm": ("16Gi", 2),
}


def _variables(rng: random.Random, prefix: str, count: int) -> str:
    out = []
    for index in range(count):
        kind = index % 5
        name = f"{prefix}_setting_{index}"
        if kind == 0:
            out.append(
                f'variable "{name}" {{\n  description = "How many {name} to run."\n'
                f"  type        = number\n  default     = {rng.randrange(1, 20)}\n\n"
                f"  validation {{\n    condition     = var.{name} >= 0\n"
                f'    error_message = "{name} must not be negative."\n  }}\n}}\n'
            )
        elif kind == 1:
            out.append(
                f'variable "{name}" {{\n  type    = string\n'
                f'  default = "{rng.choice(["2Gi", "4Gi", "8Gi"])}"\n}}\n'
            )
        elif kind == 2:
            out.append(
                f'variable "{name}" {{\n  type = map(object({{\n'
                "    max_runners       = optional(number, 1)\n"
                '    memory_limit      = optional(string, "8Gi")\n'
                '    cpu_limit         = optional(string, "2")\n'
                '    container_mode    = optional(string, "")\n'
                "    node_selector     = optional(map(string), {})\n"
                "    dind_memory_limit = optional(string)\n  }))\n"
                "  default = {}\n}\n"
            )
        elif kind == 3:
            out.append(
                f'variable "{name}" {{\n  type    = bool\n  default = '
                f"{rng.choice(['true', 'false'])}\n}}\n"
            )
        else:
            out.append(
                f'variable "{name}" {{\n  type = list(string)\n'
                f'  default = ["a-{index}", "b-{index}", "c-{index}"]\n}}\n'
            )
    return "\n".join(out)


def _resources(rng: random.Random, module: str, count: int) -> str:
    out = []
    for index in range(count):
        kind = index % 4
        if kind == 0:
            out.append(f'''resource "helm_release" "{module.replace("-", "_")}_{index}" {{
  name       = "${{var.name}}-{index}"
  repository = "oci://ghcr.io/example/{module}"
  chart      = "{module}"
  version    = "1.{rng.randrange(30)}.{rng.randrange(10)}"
  namespace  = var.namespace

  values = [yamlencode({{
    replicaCount = var.replicas
    image = {{
      repository = "ghcr.io/example/{module}"
      tag        = var.image_tag
    }}
    resources = {{
      requests = {{ cpu = "100m", memory = "128Mi" }}
      limits   = {{ memory = var.memory_limit }}
    }}
    nodeSelector = {{ "kubernetes.io/hostname" = "bumble" }}
    tolerations = [for t in var.tolerations : {{
      key      = t.key
      operator = "Equal"
      value    = t.value
      effect   = "NoSchedule"
    }}]
  }})]

  dynamic "set" {{
    for_each = var.extra_settings
    content {{
      name  = set.key
      value = set.value
    }}
  }}

  lifecycle {{
    ignore_changes = [metadata]
  }}
}}
''')
        elif kind == 1:
            out.append(f'''resource "kubernetes_config_map" "{module.replace("-", "_")}_{index}" {{
  metadata {{
    name      = "{module}-config-{index}"
    namespace = var.namespace
    labels = {{
      "app.kubernetes.io/name"       = "{module}"
      "app.kubernetes.io/managed-by" = "opentofu"
    }}
  }}

  data = {{
    "config.toml" = <<-EOT
      listen = "[::]:{8000 + index}"
      max_size = "${{var.max_size}}"
      [database]
      url = "postgres://{module}@postgres:5432/{module}"
      [storage]
      type = "s3"
      bucket = "{module}-{index}"
    EOT
    "enabled" = var.enabled ? "true" : "false"
  }}
}}
''')
        elif kind == 2:
            out.append(f'''locals {{
  {module.replace("-", "_")}_labels_{index} = {{
    team      = "platform"
    component = "{module}"
    index     = {index}
  }}
  {module.replace("-", "_")}_hosts_{index} = [for h in var.hosts : "${{h}}.{module}.svc"]
  {module.replace("-", "_")}_ports_{index} = {{ for n, p in var.ports : n => p + {index} }}
  {module.replace("-", "_")}_ready_{index} = length(var.hosts) > 0 && var.enabled
}}
''')
        else:
            out.append(f'''resource "kubernetes_service" "{module.replace("-", "_")}_{index}" {{
  count = var.enabled ? 1 : 0
  metadata {{
    name      = "{module}-{index}"
    namespace = var.namespace
  }}
  spec {{
    selector = {{ app = "{module}" }}
    port {{
      name        = "http"
      port        = {80 + index}
      target_port = {8080 + index}
    }}
    type = "ClusterIP"
  }}
}}
''')
    return "\n".join(out)


def _runner_module() -> dict[str, str]:
    return {
        "main.tf": """# One runner scale set of the gha-runner-scale-set chart.
resource "helm_release" "scale_set" {
  name       = var.runner_label
  repository = "oci://ghcr.io/actions/actions-runner-controller-charts"
  chart      = "gha-runner-scale-set"
  namespace  = var.namespace

  values = [yamlencode({
    runnerScaleSetName = var.runner_label
    minRunners         = var.min_runners
    maxRunners         = var.max_runners
    template = {
      spec = {
        containers = [{
          name      = "runner"
          resources = { limits = { memory = var.memory_limit } }
        }]
      }
    }
  })]
}
""",
        "variables.tf": """variable "runner_label" {
  type = string
}

variable "namespace" {
  type    = string
  default = "arc-runners"
}

variable "min_runners" {
  type    = number
  default = 0
}

variable "max_runners" {
  type    = number
  default = 4
}

variable "memory_limit" {
  type    = string
  default = "8Gi"
}

variable "container_mode" {
  type    = string
  default = ""
}

variable "dind_memory_limit" {
  type    = string
  default = null
}
""",
    }


def _runner_stack() -> dict[str, str]:
    modules = []
    variables = ['variable "cluster_context" {\n  type    = string\n  default = "honey"\n}\n']
    for label, (memory, runners) in LANES.items():
        name = label.replace("-", "_")
        modules.append(
            f'module "{name}" {{\n  source       = "../../modules/arc-runner"\n'
            f'  runner_label = "{label}"\n  max_runners  = var.{name}_max_runners\n'
            f"  memory_limit = var.{name}_memory_limit\n}}\n"
        )
        variables.append(
            f'variable "{name}_max_runners" {{\n  type    = number\n'
            f'  default = {runners}\n}}\n\nvariable "{name}_memory_limit" {{\n'
            f'  type    = string\n  default = "{memory}"\n}}\n'
        )
    modules.append(
        'module "extra" {\n  source            = "../../modules/arc-runner"\n'
        "  for_each          = var.extra_lanes\n  runner_label      = each.key\n"
        "  max_runners       = each.value.max_runners\n"
        "  memory_limit      = each.value.memory_limit\n"
        "  container_mode    = each.value.container_mode\n"
        "  dind_memory_limit = each.value.dind_memory_limit\n}\n"
    )
    variables.append(
        'variable "extra_lanes" {\n  type = map(object({\n'
        "    max_runners       = optional(number, 1)\n"
        '    memory_limit      = optional(string, "8Gi")\n'
        '    container_mode    = optional(string, "")\n'
        "    dind_memory_limit = optional(string)\n  }))\n  default = {}\n}\n"
    )
    return {
        "main.tf": 'provider "kubernetes" {\n  config_context = var.cluster_context\n}\n\n'
        + "\n".join(modules),
        "variables.tf": "\n".join(variables),
        "terraform.tfvars": "tinyland_nix_max_runners = 10\n\nextra_lanes = {\n"
        '  "tinyland-nix-gpu" = {\n    max_runners  = 1\n'
        '    memory_limit = "16Gi"\n  }\n}\n',
    }


def _backend(stack: str) -> str:
    return (
        f'terraform {{\n  required_version = ">= 1.6"\n  backend "s3" {{\n'
        f'    key = "{stack}/terraform.tfstate"\n  }}\n  required_providers {{\n'
        '    kubernetes = {\n      source  = "hashicorp/kubernetes"\n'
        '      version = "~> 2.30"\n    }\n    helm = {\n'
        '      source  = "hashicorp/helm"\n      version = "~> 2.13"\n    }\n  }\n}\n'
    )


WORKFLOW = """name: {name}
on:
  push:
    branches: [main]
  pull_request:
permissions:
  contents: read
jobs:
  plan:
    runs-on: tinyland-nix
    strategy:
      matrix:
        stack: [{stacks}]
    steps:
      - uses: actions/checkout@v4
      - uses: DeterminateSystems/nix-installer-action@v16
      - run: nix develop --command tofu -chdir=tofu/stacks/${{{{ matrix.stack }}}} init
      - run: nix develop --command tofu -chdir=tofu/stacks/${{{{ matrix.stack }}}} plan
  check:
    runs-on: tinyland-nix-heavy
    needs: plan
    steps:
      - uses: actions/checkout@v4
      - uses: DeterminateSystems/nix-installer-action@v16
      - run: nix flake check --print-build-logs
"""


def _names(base: tuple[str, ...], scale: float) -> tuple[str, ...]:
    """`scale` times as many names as `base` (a second round gets a `-2` suffix)."""
    count = max(1, round(len(base) * scale))
    return tuple(
        base[i % len(base)] + (f"-{i // len(base) + 1}" if i >= len(base) else "")
        for i in range(count)
    )


def write_infra_repo(root: Path, seed: int = 7, scale: float = 1.0) -> Path:
    """Write the infra-shaped repository under `root`; `scale` multiplies the file count."""
    rng = random.Random(seed)
    files: dict[str, str] = {}
    modules = _names(MODULES, scale)
    stacks = _names(STACKS, scale)
    for module in modules:
        base = f"tofu/modules/{module}"
        if module == "arc-runner":
            files.update({f"{base}/{k}": v for k, v in _runner_module().items()})
            continue
        files[f"{base}/main.tf"] = _resources(rng, module, 28)
        files[f"{base}/extra.tf"] = _resources(rng, module + "-x", 15)
        files[f"{base}/variables.tf"] = _variables(rng, module.replace("-", "_"), 30) + (
            'variable "name" {\n  type = string\n}\n\nvariable "namespace" {\n'
            '  type    = string\n  default = "default"\n}\n'
        )
        files[f"{base}/outputs.tf"] = "\n".join(
            f'output "{module.replace("-", "_")}_{i}" {{\n  value = var.name\n}}\n'
            for i in range(6)
        )
    for stack in stacks:
        base = f"tofu/stacks/{stack}"
        files[f"{base}/backend.tf"] = _backend(stack)
        files[f"{base}/backend.tfbackend"] = (
            'bucket   = "honey-tofu-state"\n'
            'endpoint = "https://s3.bumble.honey:9000"\n'
            'region   = "us-east-1"\n'
        )
        if stack == "arc-runners":
            files.update({f"{base}/{k}": v for k, v in _runner_stack().items()})
            continue
        module = stack if stack in modules else rng.choice(modules[1:] or modules)
        files[f"{base}/main.tf"] = (
            f'module "{stack.replace("-", "_")}" {{\n  source    = "../../modules/{module}"\n'
            f'  name      = "{stack}"\n  namespace = var.namespace\n}}\n\n'
            + _resources(rng, stack, 13)
        )
        files[f"{base}/variables.tf"] = _variables(rng, stack.replace("-", "_"), 6) + (
            'variable "namespace" {\n  type    = string\n  default = "platform"\n}\n'
        )
        files[f"{base}/terraform.tfvars"] = f'namespace = "{stack}"\n'
    names = ["tofu", "flake-check", "release", "deploy", "lint", "nightly"]
    for name in names:
        files[f".github/workflows/{name}.yml"] = WORKFLOW.format(
            name=name, stacks=", ".join(stacks[:4])
        )
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def corpus_size(root: Path) -> dict[str, int]:
    """How many `.tf` files and HCL bytes a generated repository holds."""
    tf = sorted(root.rglob("*.tf"))
    return {
        "tf_files": len(tf),
        "hcl_bytes": sum(p.stat().st_size for p in tf),
        "workflows": len(list((root / ".github" / "workflows").glob("*.yml"))),
    }
