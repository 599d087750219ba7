"""One store shared by several machines: the engine's RemoteCache on object storage (S3-compatible, fsspec).

    bucket.py   get / put / put-if-absent / compare-and-swap on a bucket (s3fs)
    lease.py    leases: locks on the bucket that expire when their holder dies
    cache.py    ObjectStoreCache: objects, action records, gold pointers and locks on the bucket
    sync.py     the front end's sync: adopt the shared gold pointers of the dates a command names

The local data root stays the working copy and the default: without `remote.url` nothing here is used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from projections.errors import ConfigError

if TYPE_CHECKING:
    from projections.remote.cache import ObjectStoreCache
    from projections.settings import Settings


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
