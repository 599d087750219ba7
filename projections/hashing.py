"""Digests: xxh3-128 over bytes, files and tagged canonical structures.

A digest is written with its algorithm, `xxh3-128:<32 hex>`, wherever it is recorded (manifests, action
records, the ledger); paths use the bare hex. Structures are hashed through `canonical_json` (sorted keys,
no whitespace, no NaN) under a tag, so that a key can never collide with a file digest of the same bytes:
`hash_struct("action", name, version, params, inputs)`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any

import xxhash

ALGO = "xxh3-128"
PREFIX = ALGO + ":"
HEX_LEN = 32
_CHUNK = 1 << 20


def _default(obj: Any) -> Any:
    if isinstance(obj, dt.datetime):
        if obj.tzinfo is None:
            raise TypeError(f"naive datetime {obj!r} cannot be hashed; attach a timezone")
        return obj.isoformat()
    if isinstance(obj, dt.date):
        return obj.isoformat()
    if isinstance(obj, PurePath):
        return obj.as_posix()
    if isinstance(obj, set | frozenset):
        return sorted(obj)
    if isinstance(obj, bytes):
        return digest_bytes(obj)
    model_dump = getattr(obj, "model_dump", None)
    if callable(model_dump):
        return model_dump(mode="json")
    raise TypeError(f"cannot hash a {type(obj).__name__}: {obj!r}")


def canonical_json(obj: Any) -> bytes:
    """The one byte encoding of a JSON-able structure: sorted keys, no spaces, UTF-8, no NaN."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_default
    ).encode("utf-8")


def digest_bytes(data: bytes | bytearray | memoryview) -> str:
    return PREFIX + xxhash.xxh3_128_hexdigest(data)


def hash_struct(tag: str, *parts: Any) -> str:
    """Digest of a tagged structure; the tag keeps different kinds of key apart."""
    return digest_bytes(canonical_json([tag, *parts]))


def hash_file(path: str | os.PathLike[str]) -> str:
    hasher = xxhash.xxh3_128()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            hasher.update(chunk)
    return PREFIX + hasher.hexdigest()


def hash_tree(files: Mapping[str, str]) -> str:
    """Digest of a directory object from its file names and their digests (order-free)."""
    return hash_struct("tree", sorted(files.items()))


def hex_of(digest: str) -> str:
    """The bare hex of a digest, validated, for use in a path."""
    if not is_digest(digest):
        raise ValueError(f"not an {ALGO} digest: {digest!r}")
    return digest[len(PREFIX):]


def is_digest(value: object) -> bool:
    if not isinstance(value, str) or not value.startswith(PREFIX):
        return False
    hexpart = value[len(PREFIX):]
    return len(hexpart) == HEX_LEN and all(c in "0123456789abcdef" for c in hexpart)


def short(digest: str | None, n: int = 10) -> str:
    """A digest shortened for people: the first `n` hex digits."""
    if not digest:
        return "-"
    return digest[len(PREFIX):][:n] if digest.startswith(PREFIX) else digest[:n]


def seed_from(digest: str) -> int:
    """A 63-bit integer seed derived from a key, so random draws are a function of the key."""
    return int(hex_of(digest)[:16], 16) & ((1 << 63) - 1)


def as_path(p: str | os.PathLike[str]) -> Path:
    return p if isinstance(p, Path) else Path(p)


SEAL = "manifest_digest"  # a manifest's own digest (of every other field): verify sees an edited provenance


def seal(manifest: Mapping[str, Any]) -> str:
    """The digest of a manifest's fields (all but the seal), as they read back from manifest.json."""
    return digest_bytes(json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode())  # the C encoder


def seal_of(path: str | os.PathLike[str]) -> str:
    """The seal a manifest file's fields give (not the one it records)."""
    manifest = json.loads(Path(path).read_bytes())
    return seal({k: v for k, v in manifest.items() if k != SEAL}) if isinstance(manifest, dict) else ""
