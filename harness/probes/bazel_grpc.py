"""Probes of a Bazel gRPC remote cache (REAPI v2), behind the `grpc` extra.

The few REAPI, ByteStream and health messages the probes need are encoded by hand in the
protobuf wire format (see `action_result`), so only `grpcio` is required: no generated
stubs, no protoc. Field numbers follow `build/bazel/remote/execution/v2/
remote_execution.proto`, `google/bytestream/bytestream.proto` and `grpc/health/v1/
health.proto`. The URL's path, if any, is the REAPI instance name
(`grpc://host:9092/main` -> instance `main`).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import grpc

from harness.probes.action_result import (
    ActionResult,
    Digest,
    OutputFile,
    ProtoError,
    compare_results,
    decode_action_result,
    decode_digest,
    encode_action_result,
    encode_digest,
    int_field,
    iter_fields,
    len_field,
    read_varint,
)
from harness.probes.bazel_http import ProbeReport, Step, fresh_key

REAPI = "/build.bazel.remote.execution.v2."
HEALTH_CHECK = "/grpc.health.v1.Health/Check"
GET_CAPABILITIES = REAPI + "Capabilities/GetCapabilities"
FIND_MISSING = REAPI + "ContentAddressableStorage/FindMissingBlobs"
BATCH_UPDATE = REAPI + "ContentAddressableStorage/BatchUpdateBlobs"
BATCH_READ = REAPI + "ContentAddressableStorage/BatchReadBlobs"
GET_ACTION_RESULT = REAPI + "ActionCache/GetActionResult"
UPDATE_ACTION_RESULT = REAPI + "ActionCache/UpdateActionResult"
BYTESTREAM_READ = "/google.bytestream.ByteStream/Read"
BYTESTREAM_WRITE = "/google.bytestream.ByteStream/Write"
SHA256 = 1  # DigestFunction.Value.SHA256
SERVING = 1  # HealthCheckResponse.ServingStatus.SERVING
CHUNK = 64 * 1024


def _identity(data: bytes) -> bytes:
    return data


def target_of(url: str) -> tuple[str, bool, str]:
    """(host:port, use TLS, instance name) of a grpc(s):// URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("grpc", "grpcs"):
        raise ValueError(f"not a gRPC cache URL: {parts.scheme}://")
    tls = parts.scheme == "grpcs"
    port = parts.port or (443 if tls else 9092)
    return f"{parts.hostname}:{port}", tls, parts.path.strip("/")


def _channel(url: str) -> tuple[grpc.Channel, str]:
    target, tls, instance = target_of(url)
    if tls:
        return grpc.secure_channel(target, grpc.ssl_channel_credentials()), instance
    return grpc.insecure_channel(target), instance


def _resource(instance: str, digest: Digest, *, upload: bool) -> str:
    middle = f"uploads/{uuid.uuid4()}/blobs" if upload else "blobs"
    prefix = f"{instance}/" if instance else ""
    return f"{prefix}{middle}/{digest.hash}/{digest.size_bytes}"


def _status_problem(raw: bytes) -> str | None:
    """A google.rpc.Status that is not OK, as text; None when it is OK."""
    code, message = 0, ""
    for number, _, value in iter_fields(raw):
        if number == 1 and isinstance(value, int):
            code = value
        elif number == 2 and isinstance(value, bytes):
            message = value.decode("utf-8", errors="replace")
    if code == 0:
        return None
    name = next((c.name for c in grpc.StatusCode if c.value[0] == code), str(code))
    return f"{name}: {message}" if message else name


class _Calls:
    """Unary and streaming calls with raw-bytes (de)serializers and one deadline each."""

    def __init__(self, channel: grpc.Channel, timeout: float) -> None:
        self.channel = channel
        self.timeout = timeout

    def unary(self, method: str, request: bytes) -> bytes:
        call = self.channel.unary_unary(
            method, request_serializer=_identity, response_deserializer=_identity
        )
        response: bytes = call(request, timeout=self.timeout)
        return response

    def write(self, requests: Iterator[bytes]) -> bytes:
        call = self.channel.stream_unary(
            BYTESTREAM_WRITE, request_serializer=_identity, response_deserializer=_identity
        )
        response: bytes = call(requests, timeout=self.timeout)
        return response

    def read(self, request: bytes, cap: int) -> bytes:
        """ByteStream Read; stops (and cancels the stream) once more than `cap` bytes came."""
        call = self.channel.unary_stream(
            BYTESTREAM_READ, request_serializer=_identity, response_deserializer=_identity
        )
        data = bytearray()
        stream = call(request, timeout=self.timeout)
        for message in stream:
            for number, _, value in iter_fields(message):
                if number == 10 and isinstance(value, bytes):
                    data += value
            if len(data) > cap:
                stream.cancel()
                break
        return bytes(data)


def _timed(report: ProbeReport, name: str, fn: Callable[[], tuple[bool, str]]) -> bool:
    started = time.perf_counter()
    try:
        ok, detail = fn()
    except grpc.RpcError as exc:
        code: Any = exc.code() if hasattr(exc, "code") else None
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            ok, detail = False, "no answer within the timeout"
        else:
            details = exc.details() if hasattr(exc, "details") else ""
            name_ = code.name if code is not None else "error"
            ok, detail = False, f"{name_}: {details}".splitlines()[0]
    except ProtoError as exc:
        ok, detail = False, f"the answer does not parse: {exc}"
    report.steps.append(Step(name, ok, detail, time.perf_counter() - started))
    return ok


def _capabilities(raw: bytes) -> tuple[list[int], bool]:
    """(digest functions, action-cache updates enabled) from ServerCapabilities."""
    functions: list[int] = []
    update_enabled = False
    for number, _, value in iter_fields(raw):
        if number != 1 or not isinstance(value, bytes):
            continue
        for sub, wire, item in iter_fields(value):
            if sub == 1 and wire == 0 and isinstance(item, int):
                functions.append(item)
            elif sub == 1 and isinstance(item, bytes):  # packed repeated enum
                pos = 0
                while pos < len(item):
                    function, pos = read_varint(item, pos)
                    functions.append(function)
            elif sub == 2 and isinstance(item, bytes):
                for flag, _, enabled in iter_fields(item):
                    if flag == 1 and isinstance(enabled, int):
                        update_enabled = bool(enabled)
    return functions, update_enabled


def probe_answers(url: str, *, timeout: float = 10.0) -> ProbeReport:
    """BAZEL001 over gRPC: health Check and GetCapabilities (SHA256, AC updates)."""
    report = ProbeReport()
    channel, instance = _channel(url)
    calls = _Calls(channel, timeout)
    with channel:

        def health() -> tuple[bool, str]:
            try:
                raw = calls.unary(HEALTH_CHECK, b"")
            except grpc.RpcError as exc:
                if exc.code() == grpc.StatusCode.UNIMPLEMENTED:
                    return True, "no grpc.health.v1 service; capabilities decide"
                raise
            status = next((v for n, _, v in iter_fields(raw) if n == 1), 0)
            if status == SERVING:
                return True, "SERVING"
            return False, f"health status is {status!r}, not SERVING"

        def capabilities() -> tuple[bool, str]:
            raw = calls.unary(
                GET_CAPABILITIES, len_field(1, instance.encode()) if instance else b""
            )
            functions, update = _capabilities(raw)
            problems = []
            if SHA256 not in functions:
                problems.append(f"SHA256 is not among the digest functions {functions}")
            if not update:
                problems.append("action-cache updates are disabled (Bazel cannot upload)")
            if problems:
                return False, "; ".join(problems)
            return True, "SHA256 supported, action-cache updates enabled"

        if _timed(report, "Health/Check", health) or report.steps[-1].detail.startswith(
            "no grpc.health"
        ):
            _timed(report, "GetCapabilities", capabilities)
    return report


class _RoundTrip:
    """The round-trip steps, sharing the blobs they write and read back."""

    def __init__(self, calls: _Calls, instance: str, size: int) -> None:
        self.calls = calls
        self.instance = instance
        self.inst = len_field(1, instance.encode()) if instance else b""
        self.blob, self.streamed = os.urandom(size), os.urandom(CHUNK * 2 + 17)
        self.stdout = b"flywheel-harness round trip " + os.urandom(8).hex().encode()
        self.blob_d, self.stdout_d = Digest.of(self.blob), Digest.of(self.stdout)
        self.streamed_d = Digest.of(self.streamed)
        self.sent = ActionResult(
            output_files=(OutputFile("bazel-out/probe/out.bin", self.blob_d),),
            exit_code=0,
            stdout_digest=self.stdout_d,
        )
        self.action = Digest(fresh_key(), 142)

    def _missing(self, digests: list[Digest]) -> list[Digest]:
        request = self.inst + b"".join(len_field(2, encode_digest(d)) for d in digests)
        raw = self.calls.unary(FIND_MISSING, request)
        return [decode_digest(v) for n, _, v in iter_fields(raw) if n == 2 and isinstance(v, bytes)]

    def find_before(self) -> tuple[bool, str]:
        absent = self._missing([self.blob_d, self.stdout_d])
        if set(absent) != {self.blob_d, self.stdout_d}:
            return False, "FindMissingBlobs says fresh random blobs are already present"
        return True, "fresh blobs reported missing"

    def batch_update(self) -> tuple[bool, str]:
        request = self.inst + b"".join(
            len_field(2, len_field(1, encode_digest(d)) + len_field(2, data))
            for d, data in ((self.blob_d, self.blob), (self.stdout_d, self.stdout))
        )
        raw = self.calls.unary(BATCH_UPDATE, request)
        problems, seen = [], 0
        for number, _, value in iter_fields(raw):
            if number != 1 or not isinstance(value, bytes):
                continue
            seen += 1
            status = _field(value, 2)
            problem = _status_problem(status) if isinstance(status, bytes) else None
            if problem:
                problems.append(problem)
        if seen != 2:
            return False, f"BatchUpdateBlobs answered {seen} statuses for 2 blobs"
        return (False, "; ".join(problems)) if problems else (True, "both blobs stored")

    def find_after(self) -> tuple[bool, str]:
        absent = self._missing([self.blob_d, self.stdout_d])
        if absent:
            return False, f"{len(absent)} blob(s) still missing after BatchUpdateBlobs"
        return True, "both present"

    def batch_read(self) -> tuple[bool, str]:
        raw = self.calls.unary(BATCH_READ, self.inst + len_field(2, encode_digest(self.blob_d)))
        for number, _, value in iter_fields(raw):
            if number != 1 or not isinstance(value, bytes):
                continue
            status = _field(value, 3)
            problem = _status_problem(status) if isinstance(status, bytes) else None
            if problem:
                return False, f"BatchReadBlobs status {problem}"
            if _field(value, 2) != self.blob:
                return False, "BatchReadBlobs returned different bytes"
            return True, "read back byte-equal"
        return False, "BatchReadBlobs returned no response for the blob"

    def write(self) -> tuple[bool, str]:
        resource = _resource(self.instance, self.streamed_d, upload=True).encode()
        data = self.streamed

        def chunks() -> Iterator[bytes]:
            for offset in range(0, len(data), CHUNK):
                last = offset + CHUNK >= len(data)
                yield (
                    (len_field(1, resource) if offset == 0 else b"")
                    + int_field(2, offset)
                    + int_field(3, int(last))
                    + len_field(10, data[offset : offset + CHUNK])
                )

        committed = _field(self.calls.write(chunks()), 1)
        if committed != len(data):
            return False, f"ByteStream Write committed {committed!r} of {len(data)} bytes"
        return True, f"committed {committed} bytes"

    def read(self) -> tuple[bool, str]:
        resource = _resource(self.instance, self.streamed_d, upload=False)
        data = self.calls.read(len_field(1, resource.encode()), cap=len(self.streamed))
        if len(data) > len(self.streamed):
            return False, (f"ByteStream Read sent more than the {len(self.streamed)} bytes written")
        if data != self.streamed:
            return False, f"ByteStream Read returned {len(data)} bytes that differ"
        return True, "read back byte-equal"

    def update_ac(self) -> tuple[bool, str]:
        self.calls.unary(
            UPDATE_ACTION_RESULT,
            self.inst
            + len_field(2, encode_digest(self.action))
            + len_field(3, encode_action_result(self.sent)),
        )
        return True, "stored"

    def get_ac(self) -> tuple[bool, str]:
        raw = self.calls.unary(
            GET_ACTION_RESULT, self.inst + len_field(2, encode_digest(self.action))
        )
        problems = compare_results(self.sent, decode_action_result(raw))
        if problems:
            return False, "the ActionResult read back differs: " + "; ".join(problems)
        return True, "parsed fields equal"


def _field(message: bytes, number: int) -> int | bytes | None:
    """The first value of field `number` in a message."""
    return next((v for n, _, v in iter_fields(message) if n == number), None)


def probe_round_trip(url: str, *, timeout: float = 10.0, size: int = 4096) -> ProbeReport:
    """BAZEL002 over gRPC: the CAS, ByteStream and ActionCache calls Bazel itself makes."""
    report = ProbeReport()
    channel, instance = _channel(url)
    trip = _RoundTrip(_Calls(channel, timeout), instance, size)
    with channel:
        if not _timed(report, "FindMissingBlobs (before)", trip.find_before) and report.steps[
            -1
        ].detail.startswith(("UNAVAILABLE", "no answer")):
            return report
        if _timed(report, "BatchUpdateBlobs", trip.batch_update):
            _timed(report, "FindMissingBlobs (after)", trip.find_after)
            _timed(report, "BatchReadBlobs", trip.batch_read)
        if _timed(report, "ByteStream Write", trip.write):
            _timed(report, "ByteStream Read", trip.read)
        if _timed(report, "UpdateActionResult", trip.update_ac):
            _timed(report, "GetActionResult", trip.get_ac)
    return report
