"""Find, validate and load the fleet contract, reporting every problem with file and line."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from harness.contract.enrollment import build_enrollment
from harness.contract.model import (
    PREREQUISITES,
    AtticCache,
    BazelCache,
    Cluster,
    ClusterNode,
    Contract,
    FlakeHubPublication,
    Ignore,
    Lane,
    Placement,
    Role,
    StateBackend,
)
from harness.contract.schema import CONTRACT_SCHEMA
from harness.errors import HarnessInputError, Problem
from harness.github.hosted import DEFAULT_PLATFORM
from harness.quantity import parse_quantity
from harness.safe_read import MAX_CONTRACT_BYTES, UnsafeFile, read_bytes
from harness.schema_errors import document_problems
from harness.yamlnodes import LMap, YamlError, line_of_path, loads

BUNDLED_CONTRACT = Path(__file__).with_name("honey.yaml")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def find_contract(repo: Path, explicit: Path | None = None) -> Path:
    """`--contract FILE`, else `fleet.yaml` at the repository root, else the bundled one."""
    if explicit is not None:
        return explicit
    candidate = repo / "fleet.yaml"
    return candidate if candidate.is_file() else BUNDLED_CONTRACT


def _plain(value: Any) -> Any:
    """A document value as plain dicts and lists (its line marks dropped)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def parse_duration(text: str) -> float:
    """Seconds in a duration such as `90m`, `24h` or `2d`."""
    return float(text.strip()[:-1]) * _DURATION_UNITS[text.strip()[-1]]


def load_contract(path: Path, display: str | None = None) -> Contract:
    """Load and validate the contract at `path`; raise HarnessInputError listing all problems."""
    name = display or str(path)
    try:
        data = read_bytes(path, MAX_CONTRACT_BYTES)
    except UnsafeFile as exc:
        raise HarnessInputError(
            Problem(name, None, f"cannot read contract: {exc.reason}")
        ) from None
    try:
        raw = loads(data.decode("utf-8"), name)
    except UnicodeDecodeError:
        raise HarnessInputError(Problem(name, None, "contract is not UTF-8 text")) from None
    except YamlError as exc:
        raise HarnessInputError(Problem(name, exc.line, exc.message)) from None
    if not isinstance(raw, LMap):
        raise HarnessInputError(Problem(name, 1, "the contract must be a YAML mapping"))
    problems = document_problems(CONTRACT_SCHEMA, raw, name)
    if problems:
        # the typed build needs a schema-valid document; quantities are still checked so
        # that one run names every problem
        problems += _quantity_problems(raw, name)
        raise HarnessInputError(sorted(problems, key=lambda p: (p.line or 0, p.message)))
    builder = _Builder(name, raw)
    contract = builder.build(hashlib.sha256(data).hexdigest())
    if builder.problems:
        raise HarnessInputError(sorted(builder.problems, key=lambda p: (p.line or 0, p.message)))
    return contract


def _quantity_paths(raw: LMap) -> list[list[str | int]]:
    """Paths of every memory quantity in a contract document of any shape."""
    paths: list[list[str | int]] = [["cluster", "namespace_memory_quota"]]
    cluster = raw.get("cluster")
    nodes = cluster.get("nodes") if isinstance(cluster, dict) else None
    if isinstance(nodes, dict):
        paths += [["cluster", "nodes", n, "allocatable_memory"] for n in nodes]
    lanes = raw.get("lanes")
    if isinstance(lanes, dict):
        paths += [["lanes", n, key] for n in lanes for key in ("memory_limit", "memory_request")]
    return paths


def _quantity_problems(raw: LMap, name: str) -> list[Problem]:
    problems = []
    for path in _quantity_paths(raw):
        value: Any = raw
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, str):
            try:
                parse_quantity(value)
            except ValueError as exc:
                where = ".".join(str(part) for part in path)
                problems.append(Problem(name, line_of_path(raw, path), f"{where}: {exc}"))
    return problems


class _Builder:
    """Turns a schema-valid mapping into a Contract, collecting semantic problems."""

    def __init__(self, name: str, raw: LMap) -> None:
        self.name = name
        self.raw = raw
        self.problems: list[Problem] = []

    def problem(self, path: list[str | int], message: str) -> None:
        self.problems.append(Problem(self.name, line_of_path(self.raw, path), message))

    def quantity(self, path: list[str | int], value: Any) -> int:
        try:
            return parse_quantity(value)
        except ValueError as exc:
            self.problem(path, f"{'.'.join(str(part) for part in path)}: {exc}")
            return 0

    def build(self, sha256: str) -> Contract:
        raw = self.raw
        cluster = self._cluster(raw["cluster"])
        lanes = {name: self._lane(name, spec, cluster) for name, spec in raw["lanes"].items()}
        placement = None
        if "placement" in raw:
            spec = raw["placement"]
            placement = Placement(
                heavy_lane=spec["heavy_lane"],
                heavy_commands=tuple(spec.get("heavy_commands", ())),
                light_commands=tuple(spec.get("light_commands", ())),
                heavy_outputs=(tuple(spec["heavy_outputs"]) if "heavy_outputs" in spec else None),
            )
            if placement.heavy_lane not in lanes:
                self.problem(
                    ["placement", "heavy_lane"],
                    f"heavy_lane {placement.heavy_lane!r} is not a lane of this contract",
                )
        caches = raw.get("caches", {})
        attic = bazel = None
        if "attic" in caches:
            spec = caches["attic"]
            attic = AtticCache(
                cache=spec["cache"],
                url=spec.get("url"),
                public_keys=tuple(spec.get("public_keys", ())),
                min_hit_ratio=float(spec.get("min_hit_ratio", 0.9)),
                token_env=spec.get("token_env", "ATTIC_TOKEN"),
                installables=tuple(spec.get("installables", ())),
            )
            for index, key in enumerate(attic.public_keys):
                if ":" not in key:
                    self.problem(
                        ["caches", "attic", "public_keys", index],
                        f"public key {key!r} is not of the form NAME:BASE64",
                    )
        if "bazel" in caches:
            spec = caches["bazel"]
            bazel = BazelCache(
                url=spec.get("url"),
                min_hit_ratio=float(spec.get("min_hit_ratio", 0.8)),
                targets=tuple(spec.get("targets", ())),
                workspace=spec.get("workspace"),
            )
        flakehub = None
        if "flakehub" in raw.get("publication", {}):
            spec = raw["publication"]["flakehub"]
            flakehub = FlakeHubPublication(
                after=tuple(Role(r) for r in spec.get("after", PREREQUISITES)),
                suites=tuple(spec.get("suites", ())),
                max_age_seconds=parse_duration(spec.get("max_age", "24h")),
                require_signature=bool(spec.get("require_signature", True)),
                scenarios_sha256=tuple(spec.get("scenarios_sha256", ())),
            )
        state = None
        if "state" in raw:
            spec = raw["state"]
            state = StateBackend(
                spec["backend"], spec.get("bucket"), spec.get("endpoint"), spec.get("region")
            )
        forge = raw.get("forge", {})
        memory = raw.get("memory", {})
        hosted_spec = raw.get("hosted_labels", ())
        hosted_platforms: dict[str, str | None] = (
            dict(hosted_spec) if isinstance(hosted_spec, dict) else dict.fromkeys(hosted_spec)
        )
        hosted = tuple(hosted_platforms)
        install_step = raw.get("bootstrap", {}).get("install_step")
        for index, label in enumerate(hosted):
            if label in lanes:
                where: str | int = label if isinstance(hosted_spec, dict) else index
                self.problem(
                    ["hosted_labels", where], f"{label!r} is both a lane and a hosted label"
                )
        enrollment = None
        if "enrollment" in raw:
            enrollment = build_enrollment(
                raw["enrollment"], lambda path: line_of_path(self.raw, path), self.problem
            )
        return Contract(
            path=self.name,
            sha256=sha256,
            version=raw["version"],
            fleet=raw["fleet"],
            cluster=cluster,
            lanes=lanes,
            hosted_labels=hosted,
            hosted_platforms=hosted_platforms,
            enrollment=enrollment,
            forge_primary=forge.get("primary", "github"),
            forge_compatibility=tuple(forge.get("compatibility", ())),
            forge_repository=forge.get("repository"),
            sources={str(k): str(v) for k, v in raw.get("sources", {}).items()},
            placement=placement,
            attic=attic,
            bazel=bazel,
            flakehub=flakehub,
            state=state,
            memory_margin=float(memory.get("margin", 0.15)),
            sample_interval=float(memory.get("sample_interval", 0.1)),
            ignores=tuple(
                Ignore(i["path"], tuple(i["rules"]), i.get("reason", ""))
                for i in raw.get("ignore", ())
            ),
            install_step=None if install_step is None else _plain(install_step),
            raw=raw,
        )

    def _cluster(self, spec: LMap) -> Cluster:
        nodes = {
            name: ClusterNode(
                name,
                node["role"],
                self.quantity(
                    ["cluster", "nodes", name, "allocatable_memory"], node["allocatable_memory"]
                ),
            )
            for name, node in spec["nodes"].items()
        }
        quota = spec.get("namespace_memory_quota")
        return Cluster(
            name=spec["name"],
            nodes=nodes,
            contexts=tuple(spec.get("contexts", ())),
            namespace=spec.get("namespace"),
            namespace_memory_quota=(
                None
                if quota is None
                else self.quantity(["cluster", "namespace_memory_quota"], quota)
            ),
        )

    def _lane(self, name: str, spec: LMap, cluster: Cluster) -> Lane:
        path: list[str | int] = ["lanes", name]
        request = spec.get("memory_request")
        lane = Lane(
            name=name,
            kind=spec["kind"],
            heavy=bool(spec.get("heavy", False)),
            memory_limit=self.quantity([*path, "memory_limit"], spec["memory_limit"]),
            memory_request=None
            if request is None
            else self.quantity([*path, "memory_request"], request),
            min_runners=int(spec.get("min_runners", 0)),
            max_runners=spec.get("max_runners"),
            nodes=tuple(spec.get("nodes", ())),
            burst=spec.get("burst"),
            description=spec.get("description", ""),
            platform=spec.get("platform", DEFAULT_PLATFORM),
        )
        for index, node in enumerate(lane.nodes):
            if node not in cluster.nodes:
                self.problem(
                    [*path, "nodes", index], f"lane {name!r} is placed on unknown node {node!r}"
                )
        if (
            lane.memory_request is not None
            and lane.memory_limit > 0
            and lane.memory_request > lane.memory_limit
        ):  # 0: the limit was bad input
            self.problem(
                [*path, "memory_request"], f"lane {name!r} requests more memory than its limit"
            )
        if lane.max_runners is not None and lane.min_runners > lane.max_runners:
            self.problem([*path, "min_runners"], f"lane {name!r} has min_runners > max_runners")
        return lane
