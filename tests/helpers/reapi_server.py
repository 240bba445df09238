"""A small in-process REAPI v2 cache server (gRPC) for the gRPC probe tests.

It stores blobs and action results in memory and speaks the subset of REAPI that Bazel
and the probes use: Capabilities, ContentAddressableStorage (FindMissingBlobs,
BatchUpdateBlobs, BatchReadBlobs), ActionCache, ByteStream Read/Write and grpc.health.v1.
Real Bazel builds against it in the tests, which checks the hand-written wire format
against Bazel's own protobuf code.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc

from harness.probes.action_result import (
    Digest,
    decode_digest,
    encode_digest,
    int_field,
    iter_fields,
    len_field,
)

_V2 = "build.bazel.remote.execution.v2"
_RESOURCE = re.compile(r"blobs/([0-9a-f]{64})/(\d+)")


def _semver(major: int, minor: int) -> bytes:
    return int_field(1, major) + int_field(2, minor)


@dataclass
class ReapiCache:
    """Server state and knobs to make it misbehave."""

    update_enabled: bool = True
    digest_functions: tuple[int, ...] = (1,)  # SHA256
    fail_batch_update: bool = False
    blobs: dict[str, bytes] = field(default_factory=dict)
    results: dict[str, bytes] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- handlers: raw request bytes in, raw response bytes out ----------------------------

    def check(self, request: bytes, context: Any) -> bytes:
        self.calls.append("Check")
        return int_field(1, 1)  # SERVING

    def capabilities(self, request: bytes, context: Any) -> bytes:
        self.calls.append("GetCapabilities")
        packed = b"".join(bytes([f]) for f in self.digest_functions)
        cache = (
            len_field(1, packed)
            + len_field(2, int_field(1, int(self.update_enabled)))
            + int_field(4, 4 * 1024 * 1024)
            + int_field(5, 1)
        )
        return (
            len_field(1, cache)
            + len_field(3, _semver(2, 0))
            + len_field(4, _semver(2, 0))
            + len_field(5, _semver(2, 0))
        )

    def find_missing(self, request: bytes, context: Any) -> bytes:
        self.calls.append("FindMissingBlobs")
        out = b""
        for number, _, value in iter_fields(request):
            if number == 2 and isinstance(value, bytes):
                digest = decode_digest(value)
                if digest.hash not in self.blobs:
                    out += len_field(2, encode_digest(digest))
        return out

    def batch_update(self, request: bytes, context: Any) -> bytes:
        self.calls.append("BatchUpdateBlobs")
        out = b""
        for number, _, value in iter_fields(request):
            if number != 2 or not isinstance(value, bytes):
                continue
            fields = {n: v for n, _, v in iter_fields(value)}
            digest = decode_digest(fields.get(1, b""))  # type: ignore[arg-type]
            data = fields.get(2, b"")
            assert isinstance(data, bytes)
            if self.fail_batch_update:
                status = int_field(1, 8) + len_field(2, b"quota exhausted")  # RESOURCE_EXHAUSTED
            elif Digest.of(data) != digest:
                status = int_field(1, 3) + len_field(2, b"digest mismatch")  # INVALID_ARGUMENT
            else:
                with self.lock:
                    self.blobs[digest.hash] = data
                status = b""
            out += len_field(1, len_field(1, encode_digest(digest)) + len_field(2, status))
        return out

    def batch_read(self, request: bytes, context: Any) -> bytes:
        self.calls.append("BatchReadBlobs")
        out = b""
        for number, _, value in iter_fields(request):
            if number != 2 or not isinstance(value, bytes):
                continue
            digest = decode_digest(value)
            data = self.blobs.get(digest.hash)
            status = b"" if data is not None else int_field(1, 5)  # NOT_FOUND
            out += len_field(
                1, len_field(1, value) + len_field(2, data or b"") + len_field(3, status)
            )
        return out

    def get_result(self, request: bytes, context: Any) -> bytes:
        self.calls.append("GetActionResult")
        digest = decode_digest(_first(request, 2))
        result = self.results.get(digest.hash)
        if result is None:
            context.abort(grpc.StatusCode.NOT_FOUND, "no such action")
        return result or b""

    def update_result(self, request: bytes, context: Any) -> bytes:
        self.calls.append("UpdateActionResult")
        if not self.update_enabled:
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "read-only cache")
        digest = decode_digest(_first(request, 2))
        result = _first(request, 3)
        self.results[digest.hash] = result
        return result

    def read(self, request: bytes, context: Any) -> Iterator[bytes]:
        self.calls.append("Read")
        match = _RESOURCE.search(_first(request, 1).decode())
        data = self.blobs.get(match.group(1)) if match else None
        if data is None:
            context.abort(grpc.StatusCode.NOT_FOUND, "no such blob")
            return
        for offset in range(0, max(len(data), 1), 32 * 1024):
            yield len_field(10, data[offset : offset + 32 * 1024])

    def write(self, requests: Iterator[bytes], context: Any) -> bytes:
        self.calls.append("Write")
        resource, data = "", bytearray()
        for message in requests:
            name = _first(message, 1)
            if name:
                resource = name.decode()
            data += _first(message, 10)
        match = _RESOURCE.search(resource)
        if match is None or Digest.of(bytes(data)).hash != match.group(1):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "digest mismatch")
        with self.lock:
            self.blobs[match.group(1) if match else ""] = bytes(data)
        return int_field(1, len(data))


def _first(message: bytes, number: int) -> bytes:
    for n, _, value in iter_fields(message):
        if n == number and isinstance(value, bytes):
            return value
    return b""


def start_reapi_server(cache: ReapiCache) -> tuple[grpc.Server, int]:
    """Serve `cache` on a free 127.0.0.1 port; returns the server and its port."""
    uu, us, su = (
        grpc.unary_unary_rpc_method_handler,
        grpc.unary_stream_rpc_method_handler,
        grpc.stream_unary_rpc_method_handler,
    )
    handlers = [
        grpc.method_handlers_generic_handler("grpc.health.v1.Health", {"Check": uu(cache.check)}),
        grpc.method_handlers_generic_handler(
            f"{_V2}.Capabilities", {"GetCapabilities": uu(cache.capabilities)}
        ),
        grpc.method_handlers_generic_handler(
            f"{_V2}.ContentAddressableStorage",
            {
                "FindMissingBlobs": uu(cache.find_missing),
                "BatchUpdateBlobs": uu(cache.batch_update),
                "BatchReadBlobs": uu(cache.batch_read),
            },
        ),
        grpc.method_handlers_generic_handler(
            f"{_V2}.ActionCache",
            {
                "GetActionResult": uu(cache.get_result),
                "UpdateActionResult": uu(cache.update_result),
            },
        ),
        grpc.method_handlers_generic_handler(
            "google.bytestream.ByteStream", {"Read": us(cache.read), "Write": su(cache.write)}
        ),
    ]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), handlers=handlers)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port
