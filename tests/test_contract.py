"""The fleet contract: lookup order, typed values, and every problem on its own located line."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from harness.contract import BUNDLED_CONTRACT, find_contract, load_contract
from harness.engine import make_context
from harness.errors import HarnessInputError

GiB = 2**30

# The minimum contract of the foundation issue, verbatim apart from real values.
ISSUE_CONTRACT = """\
version: 1
fleet: honey
cluster:
  name: honey
  nodes:                      # name -> role and allocatable memory
    bumble: {role: durable-state, allocatable_memory: 96Gi}
    sting:  {role: stateless-compute, allocatable_memory: 160Gi}
forge: {primary: github, compatibility: [gitlab, codeberg]}
lanes:                        # runs-on label -> lane
  tinyland-nix:       {kind: nix, memory_limit: 8Gi, max_runners: 8, nodes: [sting]}
  tinyland-nix-heavy: {kind: nix, heavy: true, memory_limit: 32Gi, max_runners: 2, nodes: [sting]}
  tinyland-docker:    {kind: docker, memory_limit: 2Gi, max_runners: 10}
hosted_labels: [ubuntu-latest, ubuntu-24.04]   # GitHub-hosted labels that are allowed
placement: {heavy_lane: tinyland-nix-heavy}
caches:
  attic: {url: "http://127.0.0.1:8080", cache: main, public_keys: ["main:AAAA"], min_hit_ratio: 0.9}
  bazel: {url: "http://127.0.0.1:9090", min_hit_ratio: 0.8}
publication: {flakehub: {after: [bootstrap, validate, gate]}}
state: {backend: s3, bucket: honey-tofu-state}
"""

LINE = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+): \S.*$")


def write(tmp_path: Path, text: str, name: str = "fleet.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(HarnessInputError) as info:
        load_contract(path, path.name)
    lines = str(info.value).splitlines()
    assert len(lines) == len(info.value.problems)
    return lines


def test_bundled_contract_loads_with_bytes_and_lanes() -> None:
    contract = load_contract(BUNDLED_CONTRACT)
    assert contract.fleet == "honey"
    assert contract.heavy_lane == "tinyland-nix-heavy"
    assert contract.lanes["tinyland-nix"].memory_limit == 8 * GiB
    assert contract.lanes["tinyland-nix-heavy"].heavy
    assert contract.cluster.nodes["bumble"].allocatable_memory == 96 * GiB
    assert "ubuntu-latest" in contract.hosted_labels
    assert contract.sha256 == hashlib.sha256(BUNDLED_CONTRACT.read_bytes()).hexdigest()


def test_issue_contract_loads(tmp_path: Path) -> None:
    contract = load_contract(write(tmp_path, ISSUE_CONTRACT))
    assert set(contract.lanes) == {"tinyland-nix", "tinyland-nix-heavy", "tinyland-docker"}
    assert contract.lanes["tinyland-docker"].max_runners == 10
    assert contract.attic is not None and contract.attic.public_keys == ("main:AAAA",)
    assert contract.bazel is not None and contract.bazel.min_hit_ratio == 0.8
    assert contract.flakehub is not None and contract.flakehub.after[-1] == "gate"
    assert contract.state is not None and contract.state.bucket == "honey-tofu-state"
    assert contract.forge_compatibility == ("gitlab", "codeberg")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("512Mi", 512 * 2**20),
        ("8Gi", 8 * GiB),
        ("1.5G", 1_500_000_000),
        ("2147483648", 2 * GiB),
    ],
)
def test_quantities_in_the_contract(tmp_path: Path, text: str, expected: int) -> None:
    contract = load_contract(
        write(tmp_path, ISSUE_CONTRACT.replace("memory_limit: 2Gi", f"memory_limit: {text}"))
    )
    assert contract.lanes["tinyland-docker"].memory_limit == expected


def test_lookup_order_flag_then_fleet_yaml_then_bundled(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    assert find_contract(repo) == BUNDLED_CONTRACT
    fleet = write(repo, ISSUE_CONTRACT)
    assert find_contract(repo) == fleet
    explicit = write(tmp_path, ISSUE_CONTRACT.replace("fleet: honey", "fleet: other"), "x.yaml")
    assert find_contract(repo, explicit) == explicit
    assert make_context(repo, explicit).contract.fleet == "other"
    ctx = make_context(repo)
    assert ctx.contract.fleet == "honey"
    assert ctx.contract.path == "fleet.yaml"
    fleet.unlink()
    assert make_context(repo).contract.path == "bundled:honey.yaml"


def test_a_broken_fleet_yaml_is_not_silently_replaced_by_the_bundled_one(tmp_path: Path) -> None:
    write(tmp_path, "version: 1\n")
    with pytest.raises(HarnessInputError, match=r"fleet\.yaml:1: "):
        make_context(tmp_path)


def test_all_schema_and_quantity_problems_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
version: 1
fleet: honey
colour: blue
cluster:
  name: honey
  nodes:
    sting: {role: stateless-compute, allocatable_memory: 160GB, zone: a}
lanes:
  tinyland-nix: {kind: nix, memory_limit: 8Gi, max_runner: 3}
  tinyland-docker: {kind: dokker, memory_limit: lots}
caches:
  attic: {cache: main, min_hit_ratio: 1.5, tokenenv: X}
""",
    )
    lines = problems_of(path)
    for line in lines:
        assert LINE.match(line), line
        assert line.startswith("fleet.yaml:")
    text = "\n".join(lines)
    assert "fleet.yaml:3: unknown key 'colour'" in text
    assert "fleet.yaml:7: unknown key 'zone'" in text
    assert "fleet.yaml:7: cluster.nodes.sting.allocatable_memory: not a Kubernetes quantity" in text
    assert "fleet.yaml:9: unknown key 'max_runner' in lanes.tinyland-nix" in text
    assert "fleet.yaml:10: lanes.tinyland-docker.kind: 'dokker' is not one of" in text
    assert "fleet.yaml:10: lanes.tinyland-docker.memory_limit: not a Kubernetes quantity" in text
    assert "fleet.yaml:12: unknown key 'tokenenv'" in text
    assert "min_hit_ratio" in text
    assert len(lines) == 8
    # sorted by line
    numbers = [int(LINE.match(line).group("line")) for line in lines]  # type: ignore[union-attr]
    assert numbers == sorted(numbers)


def test_all_semantic_problems_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
version: 1
fleet: honey
cluster:
  name: honey
  nodes:
    sting: {role: stateless-compute, allocatable_memory: 160Gi}
lanes:
  tinyland-nix:
    kind: nix
    memory_limit: 4Gi
    memory_request: 8Gi
    min_runners: 5
    max_runners: 2
    nodes: [sting, bumble]
hosted_labels: [ubuntu-latest, tinyland-nix]
placement: {heavy_lane: tinyland-nix-heavy}
caches:
  attic: {cache: main, public_keys: [no-colon]}
""",
    )
    lines = problems_of(path)
    assert lines == [
        "fleet.yaml:11: lane 'tinyland-nix' requests more memory than its limit",
        "fleet.yaml:12: lane 'tinyland-nix' has min_runners > max_runners",
        "fleet.yaml:14: lane 'tinyland-nix' is placed on unknown node 'bumble'",
        "fleet.yaml:15: 'tinyland-nix' is both a lane and a hosted label",
        "fleet.yaml:16: heavy_lane 'tinyland-nix-heavy' is not a lane of this contract",
        "fleet.yaml:18: public key 'no-colon' is not of the form NAME:BASE64",
    ]


def test_missing_required_keys_are_named(tmp_path: Path) -> None:
    lines = problems_of(write(tmp_path, "version: 2\nfleet: honey\n"))
    text = "\n".join(lines)
    assert "'cluster' is a required property" in text
    assert "'lanes' is a required property" in text
    assert "version: 1 was expected" in text


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("- a\n- b\n", 1, "must be a YAML mapping"),
        ("version: 1\nversion: 1\n", 2, "duplicate key 'version'"),
        ("version: [1\n", 2, "invalid YAML"),
        ("", 1, "must be a YAML mapping"),
    ],
)
def test_unreadable_contracts(tmp_path: Path, text: str, line: int, message: str) -> None:
    lines = problems_of(write(tmp_path, text))
    assert len(lines) == 1
    assert lines[0].startswith(f"fleet.yaml:{line}: ")
    assert message in lines[0]


def test_missing_and_binary_contract_files(tmp_path: Path) -> None:
    with pytest.raises(HarnessInputError, match="cannot read contract"):
        load_contract(tmp_path / "nope.yaml")
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\xfa")
    with pytest.raises(HarnessInputError, match="not UTF-8"):
        load_contract(binary)
