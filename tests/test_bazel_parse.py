"""Bazel output parsing and the ActionResult wire format, without running Bazel."""

from __future__ import annotations

import json

import pytest

from harness.probes.action_result import (
    ActionResult,
    Digest,
    OutputFile,
    ProtoError,
    compare_results,
    decode_action_result,
    encode_action_result,
    encode_digest,
)
from harness.probes.bazel_log import (
    STRICT_PATH,
    ExecutionLogError,
    hit_stats,
    leaked_path,
    parse_elapsed,
    parse_execution_log,
    parse_summary,
    stamped,
)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("INFO: 0 processes.", (0, 0, 0, 0, True)),
        ("INFO: 1 process: 1 internal.", (1, 0, 0, 0, True)),
        ("INFO: 4 processes: 3 remote cache hit, 1 internal.", (4, 3, 0, 0, True)),
        ("INFO: 4 processes: 1 internal, 3 linux-sandbox.", (4, 0, 0, 0, True)),
        (
            "INFO: 6 processes: 2 disk cache hit, 1 remote cache hit, 3 linux-sandbox.",
            (6, 1, 2, 0, True),
        ),
        ("INFO: 3 processes: 2 action cache hit, 1 internal, 2 linux-sandbox.", (3, 0, 0, 2, True)),
        ("\x1b[32mINFO: \x1b[0m5 processes: 5 remote cache hit.", (5, 5, 0, 0, True)),
        ("INFO: 5 processes: 2 remote cache hit, 1 internal.", (5, 2, 0, 0, False)),
    ],
)
def test_summary_line_variants(line: str, expected: tuple[int, int, int, int, bool]) -> None:
    total, remote, disk, action, consistent = expected
    summary = parse_summary(f"INFO: Elapsed time: 1.2s, Critical Path: 0.3s\n{line}\n")
    assert summary is not None
    assert (
        summary.total,
        summary.remote_cache_hits,
        summary.disk_cache_hits,
        summary.action_cache_hits,
    ) == (total, remote, disk, action)
    assert summary.consistent() is consistent


def test_summary_takes_the_last_line_and_ignores_lookalikes() -> None:
    text = (
        "INFO: 2 processes: 2 linux-sandbox.\n"
        "INFO: From Executing genrule //:a: 3 processes here\n"
        "INFO: 4 processes: 4 remote cache hit.\n"
    )
    summary = parse_summary(text)
    assert summary is not None and summary.remote_cache_hits == 4
    assert parse_summary("INFO: Build completed successfully, 4 total actions\n") is None


def test_elapsed_and_critical_path() -> None:
    assert parse_elapsed("INFO: Elapsed time: 13.301s, Critical Path: 12.30s\n") == (13.301, 12.3)
    assert parse_elapsed("nothing") == (None, None)


def _spawn(
    target: str,
    *,
    hit: bool | None = None,
    new_hit: bool | None = None,
    cacheable: bool = True,
    path: str = "/usr/bin:/bin",
    inputs: tuple[str, ...] = ("in.txt",),
    mnemonic: str = "Genrule",
) -> dict[str, object]:
    obj: dict[str, object] = {
        "commandArgs": ["/bin/bash", "-c", "true"],
        "environmentVariables": [{"name": "PATH", "value": path}],
        "inputs": [{"path": p, "digest": {"hash": "00", "sizeBytes": "1"}} for p in inputs],
        "listedOutputs": [f"bazel-out/k8-fastbuild/bin/{target}.out"],
        "progressMessage": f"Executing genrule //:{target}",
        "mnemonic": mnemonic,
        "runner": "remote cache hit" if hit or new_hit else "linux-sandbox",
        "remoteCacheable": cacheable,
    }
    if hit is not None:
        obj["remoteCacheHit"] = hit
    if new_hit is not None:
        obj["cacheHit"] = new_hit
    return obj


def test_execution_log_back_to_back_pretty_objects() -> None:
    objs = [
        _spawn("a", hit=True),
        _spawn("b", hit=False),
        _spawn("c", new_hit=True),
        _spawn("d", hit=False, cacheable=False),
    ]
    # Bazel writes `}{` with no separator between pretty-printed objects.
    text = (
        "".join(json.dumps(o, indent=2) for o in objs[:2])
        + "\n\n"
        + "\n".join(json.dumps(o, indent=2) for o in objs[2:])
    )
    spawns = parse_execution_log(text)
    assert [s.label for s in spawns] == [f"Executing genrule //:{t}" for t in "abcd"]
    stats = hit_stats(spawns)
    assert (stats.spawns, stats.cacheable, stats.hits) == (4, 3, 2)
    assert stats.ratio == pytest.approx(2 / 3)
    assert stats.misses_by_mnemonic() == {"Genrule": ["Executing genrule //:b"]}
    assert [s.label for s in stats.not_cacheable] == ["Executing genrule //:d"]


def test_execution_log_errors_name_the_line() -> None:
    text = json.dumps(_spawn("a", hit=True), indent=2) + '\n{\n  "broken": \n'
    with pytest.raises(ExecutionLogError, match=r"^line \d+:"):
        parse_execution_log(text)
    with pytest.raises(ExecutionLogError, match="not a JSON object"):
        parse_execution_log("[1, 2]")
    assert parse_execution_log("  \n") == []


def test_hit_ratio_with_nothing_cacheable_is_one() -> None:
    stats = hit_stats(parse_execution_log(json.dumps(_spawn("a", cacheable=False))))
    assert (stats.cacheable, stats.ratio) == (0, 1.0)


def test_leaked_path_and_stamping() -> None:
    strict = parse_execution_log(json.dumps(_spawn("a", path=STRICT_PATH)))
    leaky = parse_execution_log(json.dumps(_spawn("a", path="/home/me/bin:/usr/bin")))
    assert leaked_path(strict) is None
    assert leaked_path(leaky) == "/home/me/bin:/usr/bin"
    stamp = parse_execution_log(
        json.dumps(_spawn("a", inputs=("bazel-out/volatile-status.txt", "in.txt")))
    )
    assert len(stamped(stamp)) == 1 and stamped(strict) == []


def test_digest_wire_bytes_are_canonical_protobuf() -> None:
    digest = Digest("ab" * 32, 300)
    # field 1 (len 64) then field 2 varint 300 = 0xAC 0x02
    assert encode_digest(digest) == b"\x0a\x40" + b"ab" * 32 + b"\x10\xac\x02"


def test_action_result_round_trip_and_unknown_fields() -> None:
    blob = Digest.of(b"payload")
    result = ActionResult(
        output_files=(OutputFile("out/a", blob, is_executable=True),),
        exit_code=3,
        stdout_raw=b"hello",
        stderr_digest=Digest.of(b"err"),
    )
    data = encode_action_result(result)
    assert decode_action_result(data) == result
    # execution_metadata (field 9) as bazel-remote may add it: skipped, remembered
    extended = data + b"\x4a\x02\x08\x01"
    parsed = decode_action_result(extended)
    assert parsed == result and parsed.unknown_fields == (9,)
    negative = ActionResult(exit_code=-1)
    assert decode_action_result(encode_action_result(negative)).exit_code == -1


def test_action_result_rejects_garbage() -> None:
    with pytest.raises(ProtoError):
        decode_action_result(b"\x12\x50abc")  # length runs past the end
    with pytest.raises(ProtoError):
        decode_action_result(b"<html>502 Bad Gateway</html>")
    with pytest.raises(ProtoError):
        decode_action_result(b"\x20")  # truncated varint


def test_compare_results_names_each_difference() -> None:
    blob = Digest.of(b"payload")
    sent = ActionResult(output_files=(OutputFile("out/a", blob),), stdout_raw=b"hi")
    assert compare_results(sent, sent) == []
    # stdout moved from inline to CAS with the same content is equal
    moved = ActionResult(output_files=(OutputFile("out/a", blob),), stdout_digest=Digest.of(b"hi"))
    assert compare_results(sent, moved) == []
    wrong = ActionResult(
        output_files=(OutputFile("out/a", Digest.of(b"other")), OutputFile("out/b", blob)),
        exit_code=1,
    )
    problems = compare_results(sent, wrong)
    assert any("out/a" in p and "digest" in p for p in problems)
    assert any("unexpected output file 'out/b'" in p for p in problems)
    assert any("exit_code is 1" in p for p in problems)
    assert any("stdout differs" in p for p in problems)
