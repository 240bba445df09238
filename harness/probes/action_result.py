"""The REAPI `ActionResult` message, serialized and parsed by hand (protobuf wire format).

Only the fields the round-trip probe writes and compares are modelled; unknown fields are
skipped when parsing, so an entry rewritten by bazel-remote (which may add
`execution_metadata`) still parses. Field numbers follow
`build/bazel/remote/execution/v2/remote_execution.proto`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from harness.errors import DataError

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5


class ProtoError(DataError):
    """The bytes are not a valid message of the expected shape."""


@dataclass(frozen=True)
class Digest:
    """A content digest: lowercase hex sha256 and size in bytes."""

    hash: str
    size_bytes: int

    @classmethod
    def of(cls, data: bytes) -> Digest:
        """The SHA-256 digest of `data`."""
        return cls(hashlib.sha256(data).hexdigest(), len(data))


@dataclass(frozen=True)
class OutputFile:
    """One output file of an action: where it goes and which CAS blob it is."""

    path: str
    digest: Digest
    is_executable: bool = False


@dataclass(frozen=True)
class ActionResult:
    """The cached result of an action (the value stored under an `/ac/` key)."""

    output_files: tuple[OutputFile, ...] = ()
    exit_code: int = 0
    stdout_raw: bytes = b""
    stderr_raw: bytes = b""
    stdout_digest: Digest | None = None
    stderr_digest: Digest | None = None
    unknown_fields: tuple[int, ...] = field(default=(), compare=False)


# --- encoding -------------------------------------------------------------------------------


def _varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64  # int32/int64 negatives are ten-byte two's complement varints
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(number: int, wire: int) -> bytes:
    return _varint((number << 3) | wire)


def _len_field(number: int, payload: bytes) -> bytes:
    return _key(number, _LEN) + _varint(len(payload)) + payload


def _int_field(number: int, value: int) -> bytes:
    return _key(number, _VARINT) + _varint(value) if value else b""


def encode_digest(digest: Digest) -> bytes:
    """Serialize a Digest message."""
    return _len_field(1, digest.hash.encode("ascii")) + _int_field(2, digest.size_bytes)


def encode_action_result(result: ActionResult) -> bytes:
    """Serialize an ActionResult message (fields in field-number order)."""
    out = bytearray()
    for item in result.output_files:
        body = _len_field(1, item.path.encode("utf-8")) + _len_field(2, encode_digest(item.digest))
        body += _int_field(4, int(item.is_executable))
        out += _len_field(2, body)
    out += _int_field(4, result.exit_code)
    if result.stdout_raw:
        out += _len_field(5, result.stdout_raw)
    if result.stdout_digest is not None:
        out += _len_field(6, encode_digest(result.stdout_digest))
    if result.stderr_raw:
        out += _len_field(7, result.stderr_raw)
    if result.stderr_digest is not None:
        out += _len_field(8, encode_digest(result.stderr_digest))
    return bytes(out)


# --- decoding -------------------------------------------------------------------------------


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ProtoError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ProtoError("varint longer than 10 bytes")


def iter_fields(data: bytes) -> list[tuple[int, int, int | bytes]]:
    """Split a message into (field number, wire type, value) triples."""
    fields: list[tuple[int, int, int | bytes]] = []
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ProtoError("field number 0")
        value: int | bytes
        if wire == _VARINT:
            value, pos = _read_varint(data, pos)
        elif wire == _LEN:
            size, pos = _read_varint(data, pos)
            if pos + size > len(data):
                raise ProtoError(f"field {number} runs past the end of the message")
            value, pos = data[pos : pos + size], pos + size
        elif wire in (_I64, _I32):
            width = 8 if wire == _I64 else 4
            if pos + width > len(data):
                raise ProtoError(f"field {number} runs past the end of the message")
            value, pos = int.from_bytes(data[pos : pos + width], "little"), pos + width
        else:
            raise ProtoError(f"unsupported wire type {wire} for field {number}")
        fields.append((number, wire, value))
    return fields


def _as_bytes(number: int, value: int | bytes) -> bytes:
    if not isinstance(value, bytes):
        raise ProtoError(f"field {number} should be length-delimited")
    return value


def _as_int(number: int, value: int | bytes) -> int:
    if isinstance(value, bytes):
        raise ProtoError(f"field {number} should be a varint")
    return value - (1 << 64) if value >= 1 << 63 else value


def decode_digest(data: bytes) -> Digest:
    """Parse a Digest message."""
    hash_, size = "", 0
    for number, _, value in iter_fields(data):
        if number == 1:
            try:
                hash_ = _as_bytes(number, value).decode("ascii")
            except UnicodeDecodeError:
                raise ProtoError("digest hash is not ASCII") from None
        elif number == 2:
            size = _as_int(number, value)
    return Digest(hash_, size)


def _decode_output_file(data: bytes) -> OutputFile:
    path, digest, executable = "", Digest("", 0), False
    for number, _, value in iter_fields(data):
        if number == 1:
            path = _as_bytes(number, value).decode("utf-8", errors="replace")
        elif number == 2:
            digest = decode_digest(_as_bytes(number, value))
        elif number == 4:
            executable = bool(_as_int(number, value))
    return OutputFile(path, digest, executable)


def decode_action_result(data: bytes) -> ActionResult:
    """Parse an ActionResult; ProtoError when the bytes are not one."""
    files: list[OutputFile] = []
    exit_code = 0
    stdout_raw = stderr_raw = b""
    stdout_digest = stderr_digest = None
    unknown: list[int] = []
    for number, _, value in iter_fields(data):
        if number == 2:
            files.append(_decode_output_file(_as_bytes(number, value)))
        elif number == 4:
            exit_code = _as_int(number, value)
        elif number == 5:
            stdout_raw = _as_bytes(number, value)
        elif number == 6:
            stdout_digest = decode_digest(_as_bytes(number, value))
        elif number == 7:
            stderr_raw = _as_bytes(number, value)
        elif number == 8:
            stderr_digest = decode_digest(_as_bytes(number, value))
        else:
            unknown.append(number)
    return ActionResult(
        tuple(files),
        exit_code,
        stdout_raw,
        stderr_raw,
        stdout_digest,
        stderr_digest,
        tuple(unknown),
    )


def compare_results(sent: ActionResult, got: ActionResult) -> list[str]:
    """The fields that differ between what was written and what was read back."""
    problems: list[str] = []
    sent_files = {f.path: f for f in sent.output_files}
    got_files = {f.path: f for f in got.output_files}
    for path, item in sorted(sent_files.items()):
        other = got_files.get(path)
        if other is None:
            problems.append(f"output file {path!r} is missing")
        elif other.digest != item.digest:
            problems.append(
                f"output file {path!r} has digest {other.digest.hash}/"
                f"{other.digest.size_bytes}, wrote {item.digest.hash}/"
                f"{item.digest.size_bytes}"
            )
        elif other.is_executable != item.is_executable:
            problems.append(f"output file {path!r} lost its executable bit")
    extra = sorted(set(got_files) - set(sent_files))
    problems.extend(f"unexpected output file {p!r}" for p in extra)
    if got.exit_code != sent.exit_code:
        problems.append(f"exit_code is {got.exit_code}, wrote {sent.exit_code}")
    # bazel-remote may move inline stdout into CAS, so compare stdout by content digest.
    for name in ("stdout", "stderr"):
        sent_d = _stream_digest(sent, name)
        got_d = _stream_digest(got, name)
        if sent_d is not None and got_d != sent_d:
            problems.append(f"{name} differs from what was written")
    return problems


def _stream_digest(result: ActionResult, name: str) -> Digest | None:
    raw: bytes = getattr(result, f"{name}_raw")
    if raw:
        return Digest.of(raw)
    digest: Digest | None = getattr(result, f"{name}_digest")
    return digest


# Public names for other REAPI messages built from the same wire-format pieces.
len_field = _len_field
int_field = _int_field
read_varint = _read_varint
