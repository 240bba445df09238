"""Nix `.narinfo` files: parsing, hash normalisation and ed25519 signature verification.

A narinfo is signed over its fingerprint
`1;<StorePath>;<NarHash as sha256:nix32>;<NarSize>;<full reference paths, comma-separated>`.
Nix itself always writes `NarHash` in nix32; Attic serves it in hex, so hashes are
normalised before the fingerprint is built. A signature is `<key name>:<base64 64 bytes>`,
a public key `<key name>:<base64 32 bytes>`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

from harness.errors import DataError

NIX32_CHARS = "0123456789abcdfghijklmnpqrsvwxyz"
_NIX32_INDEX = {c: i for i, c in enumerate(NIX32_CHARS)}
_NIX32_SET = frozenset(NIX32_CHARS)
_HASH_SIZES = {"md5": 16, "sha1": 20, "sha256": 32, "sha512": 64}
DEFAULT_STORE_DIR = "/nix/store"


class NarInfoError(DataError):
    """A narinfo (or a hash, key or signature in one) that cannot be read."""


def nix32_encode(data: bytes) -> str:
    """Nix's base-32 encoding (its own alphabet, least significant bits first)."""
    length = (len(data) * 8 - 1) // 5 + 1 if data else 0
    out = []
    for n in range(length - 1, -1, -1):
        b = n * 5
        i, j = divmod(b, 8)
        c = data[i] >> j
        if i + 1 < len(data):
            c |= data[i + 1] << (8 - j)
        out.append(NIX32_CHARS[c & 0x1F])
    return "".join(out)


def nix32_decode(text: str, size: int) -> bytes:
    """Decode Nix base-32 of a `size`-byte hash; NarInfoError when it is not valid."""
    if len(text) != (size * 8 - 1) // 5 + 1:
        raise NarInfoError(f"nix32 hash {text!r} has the wrong length for {size} bytes")
    out = bytearray(size)
    for n in range(len(text)):
        digit = _NIX32_INDEX.get(text[len(text) - n - 1])
        if digit is None:
            raise NarInfoError(f"invalid character in nix32 hash {text!r}")
        b = n * 5
        i, j = divmod(b, 8)
        out[i] |= (digit << j) & 0xFF
        carry = digit >> (8 - j)
        if i < size - 1:
            out[i + 1] |= carry
        elif carry:
            raise NarInfoError(f"nix32 hash {text!r} overflows {size} bytes")
    return bytes(out)


def hash_bytes(text: str) -> tuple[str, bytes]:
    """Algorithm and digest of a hash in any of Nix's forms: `algo:nix32|hex|base64`, SRI."""
    text = text.strip()
    if ":" in text:
        algo, _, digest = text.partition(":")
    elif "-" in text:  # SRI: sha256-<base64>
        algo, _, digest = text.partition("-")
    else:
        raise NarInfoError(f"hash {text!r} names no algorithm (expected sha256:...)")
    size = _HASH_SIZES.get(algo)
    if size is None:
        raise NarInfoError(f"hash {text!r} uses an unknown algorithm {algo!r}")
    if len(digest) == size * 2 and all(c in "0123456789abcdefABCDEF" for c in digest):
        return algo, bytes.fromhex(digest)
    if len(digest) == (size * 8 - 1) // 5 + 1:
        return algo, nix32_decode(digest, size)
    try:
        raw = base64.b64decode(digest, validate=True)
    except binascii.Error:
        raw = b""
    if len(raw) == size:
        return algo, raw
    raise NarInfoError(f"hash {text!r} is neither hex, nix32 nor base64 of {size} bytes")


def normalise_hash(text: str) -> str:
    """`algo:<nix32>`, the form Nix signs, from any accepted hash form."""
    if (
        text.startswith("sha256:")
        and len(text) == 59
        and text[7] in "01"
        and _NIX32_SET.issuperset(text[7:])
    ):
        return text  # already nix32 (what Nix writes): the common case, kept fast
    algo, digest = hash_bytes(text)
    return f"{algo}:{nix32_encode(digest)}"


def store_path_hash(path: str) -> str:
    """The 32-character hash part of a store path or store path base name."""
    base = path.rsplit("/", 1)[-1]
    digest = base.split("-", 1)[0]
    if len(digest) != 32 or any(c not in _NIX32_INDEX for c in digest):
        raise NarInfoError(f"{path!r} is not a store path")
    return digest


@dataclass(frozen=True)
class NarInfo:
    """The fields of a narinfo that the harness reads."""

    store_path: str
    url: str
    nar_hash: str
    nar_size: int
    references: tuple[str, ...] = ()
    compression: str = "bzip2"
    file_hash: str | None = None
    file_size: int | None = None
    deriver: str | None = None
    sigs: tuple[str, ...] = ()
    ca: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def hash_part(self) -> str:
        """The store path's hash part (what `<hash>.narinfo` is named after)."""
        return store_path_hash(self.store_path)

    def store_dir(self) -> str:
        """The store directory the path lives in (`/nix/store`)."""
        return self.store_path.rsplit("/", 1)[0]

    def fingerprint(self) -> str:
        """What the signatures sign: `1;path;sha256:nix32;size;ref,ref`."""
        store_dir = self.store_dir()
        refs = ",".join(f"{store_dir}/{r}" for r in self.references)
        return f"1;{self.store_path};{normalise_hash(self.nar_hash)};{self.nar_size};{refs}"


_REQUIRED = ("StorePath", "URL", "NarHash", "NarSize")


def parse_narinfo(text: str, source: str = "<narinfo>") -> NarInfo:
    """Read a narinfo; NarInfoError names the source and line of the first problem."""
    fields: dict[str, str] = {}
    sigs: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition(": ")
        if not sep or not key or " " in key:
            raise NarInfoError(f"{source}:{number}: not a 'Key: value' line: {line[:80]!r}")
        if key == "Sig":
            sigs.append(value.strip())
        else:
            fields[key] = value.strip()
    missing = [k for k in _REQUIRED if k not in fields]
    if missing:
        raise NarInfoError(f"{source}: missing field(s) {', '.join(missing)}")
    try:
        nar_size = int(fields["NarSize"])
        file_size = int(fields["FileSize"]) if "FileSize" in fields else None
    except ValueError:
        raise NarInfoError(f"{source}: NarSize/FileSize is not a number") from None
    try:
        normalise_hash(fields["NarHash"])
        store_path_hash(fields["StorePath"])
    except NarInfoError as exc:
        raise NarInfoError(f"{source}: {exc}") from None
    known = {
        "StorePath",
        "URL",
        "NarHash",
        "NarSize",
        "References",
        "Compression",
        "FileHash",
        "FileSize",
        "Deriver",
        "CA",
    }
    refs = tuple(sorted(r for r in fields.get("References", "").split() if r))
    deriver = fields.get("Deriver")
    return NarInfo(
        store_path=fields["StorePath"],
        url=fields["URL"],
        nar_hash=fields["NarHash"],
        nar_size=nar_size,
        references=refs,
        compression=fields.get("Compression", "bzip2"),
        file_hash=fields.get("FileHash"),
        file_size=file_size,
        deriver=None if deriver in (None, "unknown-deriver") else deriver,
        sigs=tuple(sigs),
        ca=fields.get("CA"),
        extra={k: v for k, v in fields.items() if k not in known},
    )


@dataclass(frozen=True)
class PublicKey:
    """A Nix signing public key, `name:base64(32 bytes)`."""

    name: str
    key: bytes

    @classmethod
    def parse(cls, text: str) -> PublicKey:
        """Read `name:base64`; NarInfoError when malformed."""
        name, sep, b64 = text.strip().partition(":")
        try:
            raw = base64.b64decode(b64, validate=True)
        except binascii.Error:
            raw = b""
        if not sep or not name or len(raw) != 32:
            raise NarInfoError(f"public key {text!r} is not NAME:BASE64 of 32 bytes")
        return cls(name, raw)

    def __str__(self) -> str:
        return f"{self.name}:{base64.b64encode(self.key).decode()}"

    def verifies(self, message: bytes, signature: bytes) -> bool:
        """True when `signature` is this key's ed25519 signature of `message`."""
        try:  # libsodium: half the CPU of OpenSSL's ed25519, and it lets other threads run
            crypto_sign_open(signature + message, self.key)
        except (BadSignatureError, ValueError):  # ValueError: not a 32-byte key
            return False
        return True


class Trust(StrEnum):
    """What a narinfo's signatures amount to for a client trusting some keys."""

    TRUSTED = "trusted"  # a signature by a trusted key verifies
    UNSIGNED = "unsigned"  # no Sig line at all
    UNTRUSTED = "untrusted"  # signed, but by no trusted key
    INVALID = "invalid"  # signed by a trusted key name, but the signature does not verify


@dataclass(frozen=True)
class SigCheck:
    """The outcome of checking one narinfo's signatures."""

    trust: Trust
    key_names: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when Nix would accept this narinfo as a substitute."""
        return self.trust is Trust.TRUSTED


def check_signatures(info: NarInfo, keys: Iterable[PublicKey]) -> SigCheck:
    """Whether a Sig of `info` verifies against one of `keys` (what Nix requires)."""
    by_name = {k.name: k for k in keys}
    if not info.sigs:
        return SigCheck(Trust.UNSIGNED)
    try:
        message = info.fingerprint().encode()
    except NarInfoError:
        return SigCheck(Trust.INVALID)
    names: list[str] = []
    bad = False
    for sig in info.sigs:
        name, _, b64 = sig.partition(":")
        names.append(name)
        key = by_name.get(name)
        if key is None:
            continue
        try:
            raw = base64.b64decode(b64, validate=True)
        except binascii.Error:
            bad = True
            continue
        if len(raw) == 64 and key.verifies(message, raw):
            return SigCheck(Trust.TRUSTED, (name,))
        bad = True
    return SigCheck(Trust.INVALID if bad else Trust.UNTRUSTED, tuple(names))


def check_many(
    infos: Sequence[NarInfo], keys: Iterable[PublicKey], workers: int = 2
) -> list[SigCheck]:
    """`check_signatures` of each narinfo, in order, on up to `workers` threads.

    libsodium runs without Python's lock, so on a machine with idle cores a closure's
    thousands of signatures are checked side by side.
    """
    trusted = list(keys)
    if workers <= 1 or len(infos) < 64:
        return [check_signatures(info, trusted) for info in infos]
    from concurrent.futures import ThreadPoolExecutor

    size = -(-len(infos) // workers)
    chunks = [infos[i : i + size] for i in range(0, len(infos), size)]
    with ThreadPoolExecutor(max_workers=len(chunks), thread_name_prefix="narinfo-sig") as pool:
        parts = pool.map(lambda chunk: [check_signatures(i, trusted) for i in chunk], chunks)
        return [result for part in parts for result in part]
