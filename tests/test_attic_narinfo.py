"""Narinfo parsing, hash normalisation and signatures (cross-checked with real Nix)."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
from dataclasses import replace

import pytest
from nacl.signing import SigningKey

from harness.probes.narinfo import (
    NarInfoError,
    PublicKey,
    Trust,
    check_signatures,
    hash_bytes,
    nix32_decode,
    nix32_encode,
    normalise_hash,
    parse_narinfo,
)
from tests.helpers.tools import require_tool

NARINFO = """\
StorePath: /nix/store/54dfqaxwz23zvax91bpff2q48w2d2w6s-b
URL: nar/1py0ql2r3fvf5h8h9xh2fdsxkizwb8p4wgfa848nlfiv612sv3vr.nar.xz
Compression: xz
FileHash: sha256:1py0ql2r3fvf5h8h9xh2fdsxkizwb8p4wgfa848nlfiv612sv3vr
FileSize: 168
NarHash: sha256:1p2169hbi1x462yd1i8wjipy0kdc1lmp14qdqg0p2lmfp88hcwqh
NarSize: 160
References: ggbqg8lqjwj75wznkv03h0x2bjr2in0j-a
Deriver: zv5r7h905kpqkma1x4xvwvxjamg6sdgq-b.drv
Sig: test-1:Z37341216dJngzMCM4USdyn4hoFVfe/AIvEU5Igp0wzWBJSefYEIOk80TcvkX8CCsFte1fRVRTbOop9WXzYRAA==
"""
NIX_KEY = "test-1:dgyb2PNqz32GHQRMq3rCOvrLcUAvkf7IC1Yz/TvSYv8="
"""The key real Nix 2.8 signed NARINFO with (`nix-store --generate-binary-cache-key`)."""


def _key(name: str) -> tuple[SigningKey, PublicKey]:
    private = SigningKey.generate()
    return private, PublicKey(name, bytes(private.verify_key))


@pytest.mark.needs_nix
def test_nix32_matches_real_nix() -> None:
    require_tool("nix")
    data = b"flywheel"
    digest = hashlib.sha256(data).digest()
    env = {**os.environ, "NIX_CONFIG": "experimental-features = nix-command"}
    done = subprocess.run(
        ["nix", "hash", "to-base32", "--type", "sha256", digest.hex()],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        check=True,
    )
    assert nix32_encode(digest) == done.stdout.strip()
    assert nix32_decode(done.stdout.strip(), 32) == digest


def test_every_hash_form_normalises_to_nix32() -> None:
    nix32 = "sha256:1p2169hbi1x462yd1i8wjipy0kdc1lmp14qdqg0p2lmfp88hcwqh"
    _, digest = hash_bytes(nix32)
    assert normalise_hash(f"sha256:{digest.hex()}") == nix32
    assert normalise_hash(f"sha256-{base64.b64encode(digest).decode()}") == nix32
    assert normalise_hash(f"sha256:{base64.b64encode(digest).decode()}") == nix32
    with pytest.raises(NarInfoError, match="unknown algorithm"):
        normalise_hash("blake9:abcd")
    with pytest.raises(NarInfoError, match="neither hex"):
        normalise_hash("sha256:tooshort")


def test_parse_and_fingerprint() -> None:
    info = parse_narinfo(NARINFO)
    assert info.nar_size == 160
    assert info.references == ("ggbqg8lqjwj75wznkv03h0x2bjr2in0j-a",)
    assert info.fingerprint() == (
        "1;/nix/store/54dfqaxwz23zvax91bpff2q48w2d2w6s-b;"
        "sha256:1p2169hbi1x462yd1i8wjipy0kdc1lmp14qdqg0p2lmfp88hcwqh;160;"
        "/nix/store/ggbqg8lqjwj75wznkv03h0x2bjr2in0j-a"
    )


def test_signature_by_real_nix_verifies_also_with_hex_nar_hash() -> None:
    info = parse_narinfo(NARINFO)
    key = PublicKey.parse(NIX_KEY)
    assert check_signatures(info, [key]).trust is Trust.TRUSTED
    _, digest = hash_bytes(info.nar_hash)
    as_attic = replace(info, nar_hash=f"sha256:{digest.hex()}")
    assert check_signatures(as_attic, [key]).trust is Trust.TRUSTED
    tampered = replace(info, nar_size=161)
    assert check_signatures(tampered, [key]).trust is Trust.INVALID


def test_unsigned_untrusted_and_wrong_key() -> None:
    info = parse_narinfo(NARINFO)
    _, other = _key("other-1")
    _, same_name = _key("test-1")
    assert check_signatures(replace(info, sigs=()), [other]).trust is Trust.UNSIGNED
    assert check_signatures(info, [other]).trust is Trust.UNTRUSTED
    assert check_signatures(info, [same_name]).trust is Trust.INVALID


def test_own_signature_round_trip() -> None:
    info = parse_narinfo(NARINFO)
    private, public = _key("mine-1")
    sig = base64.b64encode(private.sign(info.fingerprint().encode()).signature).decode()
    signed = replace(info, sigs=(f"mine-1:{sig}",))
    result = check_signatures(signed, [PublicKey.parse(NIX_KEY), public])
    assert result.ok and result.key_names == ("mine-1",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("StorePath: /nix/store/x\nnot a field line\n", r"<n>:2: not a 'Key: value' line"),
        ("StorePath: /nix/store/54dfqaxwz23zvax91bpff2q48w2d2w6s-b\nURL: x\n", "missing field"),
        (NARINFO.replace("NarSize: 160", "NarSize: lots"), "not a number"),
        (NARINFO.replace("sha256:1p21", "sha256:zz21"), "n"),
    ],
)
def test_malformed_narinfo_is_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(NarInfoError, match=message):
        parse_narinfo(text, "<n>")


def test_public_key_parse_rejects_garbage() -> None:
    with pytest.raises(NarInfoError, match="NAME:BASE64"):
        PublicKey.parse("no-colon")
    with pytest.raises(NarInfoError, match="32 bytes"):
        PublicKey.parse("name:AAAA")
    assert str(PublicKey.parse(NIX_KEY)) == NIX_KEY
