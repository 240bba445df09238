"""JSON Schema of `fleet.yaml`, the fleet contract. Every key is documented in README.md."""

from __future__ import annotations

from typing import Any

from harness.contract.model import PREREQUISITES

_QUANTITY: dict[str, Any] = {"type": ["string", "integer"], "description": "Kubernetes quantity"}
_RATIO: dict[str, Any] = {"type": "number", "minimum": 0, "maximum": 1}
_STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
_REPO_NAME = r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"
_PLATFORM: dict[str, Any] = {
    "type": "string",
    "pattern": r"^[a-z0-9]+/[a-z0-9]+$",
    "description": "OS/ARCH, e.g. linux/amd64",
}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required or [],
        "additionalProperties": False,
    }


_NODE = _object(
    {
        "role": {"enum": ["durable-state", "stateless-compute", "control-plane", "general"]},
        "allocatable_memory": _QUANTITY,
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    ["role", "allocatable_memory"],
)

_LANE = _object(
    {
        "kind": {"enum": ["nix", "docker", "dind", "kvm", "gpu", "generic"]},
        "heavy": {"type": "boolean"},
        "memory_limit": _QUANTITY,
        "memory_request": _QUANTITY,
        "cpu_limit": {"type": ["string", "number"]},
        "min_runners": {"type": "integer", "minimum": 0},
        "max_runners": {"type": "integer", "minimum": 0},
        "nodes": _STRINGS,
        "burst": {"type": "integer", "minimum": 0},
        "description": {"type": "string"},
        "platform": _PLATFORM,
    },
    ["kind", "memory_limit"],
)

_ATTIC = _object(
    {
        "url": {"type": ["string", "null"]},
        "cache": {"type": "string"},
        "public_keys": _STRINGS,
        "min_hit_ratio": _RATIO,
        "token_env": {"type": "string"},
        "installables": _STRINGS,
    },
    ["cache"],
)

_BAZEL = _object(
    {
        "url": {"type": ["string", "null"]},
        "min_hit_ratio": _RATIO,
        "targets": _STRINGS,
        "workspace": {"type": "string"},
    },
)

_FLAKEHUB = _object(
    {
        "after": {"type": "array", "items": {"enum": [str(r) for r in PREREQUISITES]}},
        "suites": _STRINGS,
        "max_age": {"type": "string", "pattern": r"^\d{1,9}(\.\d{1,9})?[smhd]\Z"},
        "require_signature": {"type": "boolean"},
        "scenarios_sha256": {
            "type": "array",
            "items": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        },
    },
)

_ENROLLMENT = _object(
    {
        "tranches": {
            "type": "object",
            "additionalProperties": {
                "type": "array",
                "items": {"type": "string", "pattern": _REPO_NAME},
            },
        },
        "exceptions": {
            "type": "object",
            "additionalProperties": _object(
                {
                    "reason": {"type": "string", "pattern": r"\S"},
                    "allow": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "until": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
                },
                ["reason", "allow", "until"],
            ),
        },
        "ownership": {
            "type": "object",
            "additionalProperties": {"enum": ["repo-owned", "user-owned"]},
        },
        "promotion": _object(
            {"suites": _STRINGS, "max_warnings": {"type": "integer", "minimum": 0}}
        ),
    },
)

_STEP: dict[str, Any] = {
    "type": "object",
    "description": "a GitHub Actions step, as written in a workflow",
    "anyOf": [{"required": ["uses"]}, {"required": ["run"]}],
    "not": {"required": ["uses", "run"]},
}

CONTRACT_SCHEMA: dict[str, Any] = _object(
    {
        "version": {"const": 1},
        "fleet": {"type": "string"},
        "cluster": _object(
            {
                "name": {"type": "string"},
                "contexts": _STRINGS,
                "namespace": {"type": "string"},
                "namespace_memory_quota": _QUANTITY,
                "nodes": {"type": "object", "additionalProperties": _NODE, "minProperties": 1},
            },
            ["name", "nodes"],
        ),
        "forge": _object(
            {
                "primary": {"type": "string"},
                "compatibility": _STRINGS,
                "repository": {
                    "type": "string",
                    "pattern": _REPO_NAME,
                    "description": "OWNER/REPO of the checked repository",
                },
            },
            ["primary"],
        ),
        "sources": {
            "type": "object",
            "description": "local clones of remote repositories: OWNER/REPO -> directory "
            "(relative to the checked repository)",
            "propertyNames": {"pattern": _REPO_NAME},
            "additionalProperties": {"type": "string", "minLength": 1},
        },
        "lanes": {"type": "object", "additionalProperties": _LANE, "minProperties": 1},
        # a list of labels, or a mapping of label (or glob) to platform
        "hosted_labels": {
            "type": ["array", "object"],
            "items": {"type": "string"},
            "additionalProperties": _PLATFORM,
        },
        "enrollment": _ENROLLMENT,
        "placement": _object(
            {
                "heavy_lane": {"type": "string"},
                "heavy_commands": _STRINGS,
                "light_commands": _STRINGS,
                "heavy_outputs": _STRINGS,
            },
            ["heavy_lane"],
        ),
        "bootstrap": _object({"install_step": _STEP}),
        "caches": _object({"attic": _ATTIC, "bazel": _BAZEL}),
        "publication": _object({"flakehub": _FLAKEHUB}),
        "state": _object(
            {
                "backend": {"const": "s3"},
                "bucket": {"type": "string"},
                "endpoint": {"type": "string"},
                "region": {"type": "string"},
            },
            ["backend"],
        ),
        "memory": _object(
            {
                "margin": _RATIO,
                "sample_interval": {"type": "number", "exclusiveMinimum": 0, "maximum": 60},
            }
        ),
        "ignore": {
            "type": "array",
            "items": _object(
                {"path": {"type": "string"}, "rules": _STRINGS, "reason": {"type": "string"}},
                ["path", "rules"],
            ),
        },
    },
    ["version", "fleet", "cluster", "lanes"],
)
