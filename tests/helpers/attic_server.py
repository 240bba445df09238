"""An Attic-shaped HTTP server over a directory binary cache, for tests of the Attic client.

It answers what the harness asks a real Attic, with Attic's shapes:

- `GET /{cache}/nix-cache-info` with the `X-Attic-Cache-Visibility` header
- `GET /{cache}/{hash}.narinfo` with `NarHash` in hex, as Attic serves it
- `GET /{cache}/nar/...` the NAR files
- `GET /_api/v1/cache-config/{cache}` JSON with `public_key`, `store_dir`, `priority`
- `POST /_api/v1/get-missing-paths` with `{"cache": ..., "store_path_hashes": [...]}`
  answering `{"missing_paths": [...]}`; 401 without a token, 403 when it may not push

Tokens map to a permission: `push` may use get-missing-paths, `pull` may only read. A
token comes as `Authorization: Bearer TOKEN`, or as the password of basic auth (what Nix
sends from a netrc written by `attic use`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from pathlib import Path

from harness.probes.faultserver import FaultServer, Reply, Request
from harness.probes.narinfo import hash_bytes

HEADER = "X-Attic-Cache-Visibility"


def _json(status: int, data: object) -> Reply:
    return Reply(status, json.dumps(data).encode(), {"Content-Type": "application/json"})


def _hex_nar_hash(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if line.startswith("NarHash: "):
            algo, digest = hash_bytes(line[len("NarHash: ") :])
            lines.append(f"NarHash: {algo}:{digest.hex()}")
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


class AtticShapedServer(FaultServer):
    """Serve `cache_dir` as Attic cache `cache` (start/stop or `with`, like FaultServer)."""

    def __init__(
        self,
        cache_dir: Path,
        cache: str,
        public_key: str,
        tokens: Mapping[str, str] | None = None,
        *,
        private: bool = False,
    ) -> None:
        super().__init__(default=self._route)
        self.cache_dir = cache_dir
        self.cache = cache
        self.public_key = public_key
        self.tokens = dict(tokens or {})
        self.private = private
        self.missing_requests: list[object] = []

    def _permission(self, request: Request) -> str | None:
        auth = request.headers.get("Authorization") or request.headers.get("authorization")
        if auth and auth.startswith("Bearer "):
            return self.tokens.get(auth[len("Bearer ") :], "none")
        if auth and auth.startswith("Basic "):  # Nix with a netrc: the token is the password
            try:
                decoded = base64.b64decode(auth[len("Basic ") :]).decode()
            except ValueError:
                return "none"
            return self.tokens.get(decoded.partition(":")[2], "none")
        return None

    def _route(self, request: Request) -> Reply:
        path = request.path.split("?", 1)[0]
        if path == "/_api/v1/get-missing-paths" and request.method == "POST":
            return self._missing(request)
        if path == f"/_api/v1/cache-config/{self.cache}":
            return _json(
                200,
                {
                    "public_key": self.public_key,
                    "is_public": not self.private,
                    "store_dir": "/nix/store",
                    "priority": 41,
                    "upstream_cache_key_names": ["cache.nixos.org-1"],
                },
            )
        prefix = f"/{self.cache}/"
        if not path.startswith(prefix):
            return _json(404, {"code": 404, "error": "NoSuchCache"})
        if self.private and self._permission(request) not in ("pull", "push"):
            return _json(401, {"code": 401, "error": "Unauthorized"})
        name = path[len(prefix) :]
        visibility = {HEADER: "private" if self.private else "public"}
        if name == "nix-cache-info":
            body = b"StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 41\n"
            return Reply(200, body, {"Content-Type": "text/x-nix-cache-info", **visibility})
        file = self.cache_dir / name
        if ".." in name or not file.is_file():
            return _json(404, {"code": 404, "error": "NoSuchObject"})
        if name.endswith(".narinfo"):
            body = _hex_nar_hash(file.read_text()).encode()
            return Reply(200, body, {"Content-Type": "text/x-nix-narinfo", **visibility})
        return Reply(200, file.read_bytes(), {"Content-Type": "application/x-nix-nar"})

    def _missing(self, request: Request) -> Reply:
        permission = self._permission(request)
        if permission is None:
            return _json(401, {"code": 401, "error": "Unauthorized"})
        if permission != "push":
            return _json(403, {"code": 403, "error": "PermissionDenied"})
        try:
            data = json.loads(request.body)
        except ValueError:
            return _json(400, {"code": 400, "error": "InvalidJson"})
        self.missing_requests.append(data)
        hashes = data.get("store_path_hashes") if isinstance(data, dict) else None
        if (
            not isinstance(data, dict)
            or set(data) != {"cache", "store_path_hashes"}
            or not isinstance(hashes, list)
        ):
            return _json(400, {"code": 400, "error": "BadRequest"})
        if data["cache"] != self.cache:
            return _json(404, {"code": 404, "error": "NoSuchCache"})
        missing = [h for h in hashes if not (self.cache_dir / f"{h}.narinfo").is_file()]
        return _json(200, {"missing_paths": missing})
