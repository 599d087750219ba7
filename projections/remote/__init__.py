"""One store shared by several machines: the engine's RemoteCache on object storage (S3-compatible, fsspec).

    bucket.py   get / put / put-if-absent / compare-and-swap on a bucket (s3fs)
    lease.py    leases: locks on the bucket that expire when their holder dies
    cache.py    ObjectStoreCache: objects, action records, gold pointers and locks on the bucket
    sync.py     the front end's sync: adopt the shared gold pointers of the dates a command names

The local data root stays the working copy and the default: without `remote.url` nothing here is used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

from projections.errors import ConfigError

if TYPE_CHECKING:
    from projections.remote.cache import ObjectStoreCache
    from projections.settings import Settings
    from projections.store import LocalStore


def make_remote(settings: Settings, *, notify: Callable[[str], None] | None = None) -> ObjectStoreCache | None:
    """The shared store named by `settings.remote`, or None when none is configured."""
    cfg = settings.remote
    if not cfg.url:
        return None
    if not cfg.url.startswith("s3://"):
        raise ConfigError(f"remote.url {cfg.url!r}: only s3:// (any S3-compatible store: AWS, MinIO, Ceph, "
                          "moto) is supported; write it as s3://bucket/prefix")
    from projections.remote.bucket import S3Bucket
    from projections.remote.cache import ObjectStoreCache
    from projections.store import LocalStore

    bucket = S3Bucket(cfg.url, endpoint_url=cfg.endpoint_url, region=cfg.region, timeout_s=cfg.timeout_s,
                      key=cfg.key.get_secret_value() if cfg.key else None,
                      secret=cfg.secret.get_secret_value() if cfg.secret else None)
    kwargs = {"notify": notify} if notify else {}
    return ObjectStoreCache(bucket, lease_s=cfg.lease_s, local=LocalStore(settings.home), **kwargs)


class RemoteCache(Protocol):
    """A shared store behind the local one (object storage), used the way Bazel uses a remote cache:
    a key another machine built is fetched, not recomputed; what this machine builds is pushed; gold
    pointer moves and date locks hold across machines. The local store stays the working copy."""

    fetched: set[str]  # objects this process copied from the shared store

    def check(self) -> None: ...

    def get_action(self, key: str) -> dict[str, Any] | None: ...

    def fetch_object(self, obj: str, into: LocalStore) -> None: ...

    def push(self, record: Mapping[str, Any], local: LocalStore) -> None: ...

    def publish(self, asset: str, game_date: str, obj: str, previous: str | None) -> None: ...

    def lock(self, name: str, *, timeout: float | None) -> AbstractContextManager[None]: ...
