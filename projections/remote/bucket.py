"""A bucket: the few object-storage operations the shared store needs, on fsspec (s3fs for `s3://`).

    get(key)            -> (bytes, etag) or None
    put(key, data)      plain write (data files: content-addressed, so an overwrite writes the same bytes)
    put(..., if_absent=True)      put-if-absent (`If-None-Match: *`): raises PreconditionFailed if it exists
    put(..., if_match=etag)       compare-and-swap (`If-Match: <etag>`): raises PreconditionFailed if it moved
    exists(key), cat_many(keys), list(prefix)

Conditional PUTs are what make commits and pointer moves atomic on object storage: AWS S3 (since 2024),
MinIO, Ceph RGW and moto's server honour both headers. fsspec has no portable conditional write, so this
module calls s3fs's client for those two headers and uses fsspec for everything else.

A bucket deleted under a run is not an empty one: s3fs reports NoSuchBucket as the FileNotFoundError of a
missing key, so every read said "absent" and every stage then failed on its lock's write. Like an endpoint
that stops answering, it marks the store down for the rest of the process, with one message saying which
bucket is gone and what to do (see `_fail`, `_guard`).

Raises:
    PreconditionFailed: a conditional put lost (the key exists / moved since it was read).
    StoreError: the bucket cannot be reached, is gone or refused a request; the message names the URL and the fix.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from projections.errors import ConfigError, StoreError

# A conditional write that loses: 412 from every implementation; AWS may answer 409 to two racing writers.
_LOST = {"PreconditionFailed", "ConditionalRequestConflict"}


class PreconditionFailed(StoreError):
    """A conditional write lost: the key exists already, or changed since it was read."""


def _client_error(exc: BaseException) -> tuple[str, int] | None:
    """(error code, HTTP status) of the botocore ClientError behind `exc` (s3fs wraps it in an OSError)."""
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return None
        response = getattr(seen, "response", None)
        if isinstance(response, dict) and "Error" in response:
            code = str(response["Error"].get("Code", ""))
            status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
            return code, status
        seen = seen.__cause__ or seen.__context__
    return None


_UNREACHABLE = {"EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError",
                "ConnectionRefusedError", "ClientConnectorError", "ServerDisconnectedError"}


def _bucket_gone(exc: BaseException) -> bool:
    """Whether `exc` is S3's NoSuchBucket (s3fs raises it as FileNotFoundError, the ClientError its cause)."""
    info = _client_error(exc)
    return info is not None and info[0] == "NoSuchBucket"


def _absent(exc: BaseException) -> bool:
    """Whether `exc` says the key is not there, and not that the bucket is not (a HEAD's bare 404 cannot tell the
    two apart: every read here ends in a GET or a listing, whose answers name NoSuchBucket)."""
    if _bucket_gone(exc):
        return False
    info = _client_error(exc)
    return isinstance(exc, FileNotFoundError) or (info is not None and info[0] in {"NoSuchKey", "404"})


def _unreachable(exc: BaseException) -> bool:
    """Whether `exc` (or what it wraps) says the endpoint did not answer, as opposed to refusing a request."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if type(seen).__name__ in _UNREACHABLE:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class S3Bucket:
    """`s3://bucket/prefix` through s3fs (any S3-compatible endpoint: AWS, MinIO, Ceph, moto)."""

    def __init__(self, url: str, *, endpoint_url: str | None = None, key: str | None = None,
                 secret: str | None = None, region: str | None = None, timeout_s: float = 30.0) -> None:
        try:
            import s3fs  # noqa: F401  (here: a missing package is a ConfigError before anything)
        except ImportError as exc:  # pragma: no cover - an install problem, said plainly
            raise ConfigError("remote.url is s3:// but s3fs is not installed; `pip install s3fs`") from exc
        rest = url.removeprefix("s3://").strip("/")
        if not rest or url == rest:
            raise ConfigError(f"remote.url {url!r} is not s3://bucket[/prefix]")
        self.url = url
        self.bucket, _, prefix = rest.partition("/")
        self.prefix = prefix.strip("/")
        client_kwargs: dict[str, Any] = {}
        if region:
            client_kwargs["region_name"] = region
        self._options: dict[str, Any] = dict(
            key=key, secret=secret, endpoint_url=endpoint_url, client_kwargs=client_kwargs,
            skip_instance_cache=True, use_listings_cache=False,  # several writers: never trust a cached listing
            config_kwargs={"connect_timeout": min(timeout_s, 10.0), "read_timeout": timeout_s,
                           "retries": {"max_attempts": 5, "mode": "standard"}},
        )
        self._fs: Any = None
        self._pid = 0
        self._down: str | None = None  # why the store is no longer asked, once it stopped answering or is gone

    @property
    def fs(self) -> Any:
        """The s3fs filesystem of this process: made again in a process forked from the one that made it (`doit
        -n N` forks its workers), whose event loop s3fs refuses ("This class is not fork-safe")."""
        import os

        if self._fs is None or self._pid != os.getpid():
            import s3fs

            self._fs, self._pid = s3fs.S3FileSystem(**self._options), os.getpid()
        return self._fs

    def __repr__(self) -> str:
        return f"S3Bucket({self.url!r})"

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _path(self, key: str) -> str:
        return f"{self.bucket}/{self._key(key)}"

    def _run(self, coro: Any) -> Any:  # the coroutine's result
        from fsspec.asyn import sync

        return sync(self.fs.loop, lambda: coro)

    def _fail(self, what: str, key: str, exc: BaseException) -> StoreError:
        """The StoreError for a request that failed; one the store cannot answer again (unreachable, bucket gone)
        also marks it down, so the rest of the run fails at once (`_guard`) instead of retrying or reading
        "absent"."""
        where = f"s3://{self.bucket}/{self._key(key)}"
        if _bucket_gone(exc):
            if self._down is None:
                self._down = (f"the shared store's bucket {self.bucket!r} does not exist (any more: it was gone "
                              f"when {what} {where}); nothing more is asked of it: create the bucket, or fix "
                              f"remote.url ({self.url}), then rerun (what was built here is kept)")
            return StoreError(self._down)
        if _unreachable(exc) and self._down is None:
            self._down = (f"the shared store {self.url} stopped answering earlier in this run ({what} {where}: "
                          f"{type(exc).__name__}: {exc}); nothing more is asked of it: rerun when it is back "
                          "(what was built here is kept and uploaded then)")
        return StoreError(f"{what} {where} failed ({type(exc).__name__}: {exc}); check remote.url, "
                          "remote.endpoint_url and the credentials (PROJECTIONS_REMOTE__KEY / __SECRET)")

    def _guard(self) -> None:
        """StoreError at once when the store stopped answering or its bucket went away earlier in this process:
        every later request retried for its own ~30 s (a run whose store went away ended minutes later, stage
        after stage), or read a deleted bucket as empty."""
        if self._down is not None:
            raise StoreError(self._down)

    def check(self) -> None:
        """ConfigError unless the bucket exists and these credentials may use it: asked once before a run, so a
        wrong remote.url, endpoint or key is one line, not a traceback or a failure at every stage."""
        try:
            self._run(self.fs._call_s3("head_bucket", Bucket=self.bucket))
        except Exception as exc:
            info = _client_error(exc)
            code = info[0] if info else ""
            if code in {"404", "NoSuchBucket"} or isinstance(exc, FileNotFoundError):
                raise ConfigError(f"the shared store's bucket {self.bucket!r} does not exist (remote.url "
                                  f"{self.url}); create it, or fix remote.url") from None
            raise ConfigError(f"cannot use the shared store {self.url} ({type(exc).__name__}: {exc}); check "
                              "remote.url, remote.endpoint_url and the credentials (PROJECTIONS_REMOTE__KEY / "
                              "__SECRET)") from None

    # ---- reads ---------------------------------------------------------------------------------------

    def get(self, key: str) -> tuple[bytes, str] | None:
        """The bytes stored at `key` and their ETag (the version a CAS names), or None when absent."""
        self._guard()

        async def _get() -> tuple[bytes, str]:
            resp = await self.fs._call_s3("get_object", Bucket=self.bucket, Key=self._key(key))
            async with resp["Body"] as body:
                data = await body.read()
            return data, str(resp["ETag"])

        try:
            return self._run(_get())
        except Exception as exc:
            if _absent(exc):
                return None
            raise self._fail("reading", key, exc) from exc

    def exists(self, key: str) -> bool:
        self._guard()
        try:  # fs.exists, without its catch-all: a missing bucket is not a missing key
            self._run(self.fs._info(self._path(key)))
            return True
        except Exception as exc:
            if _absent(exc):
                return False
            raise self._fail("checking", key, exc) from exc

    def cat_many(self, keys: Iterable[str]) -> dict[str, bytes]:
        """The bytes of every key that exists (fetched concurrently); absent keys are left out."""
        self._guard()
        keys = list(keys)
        if not keys:
            return {}
        paths = {self._path(k): k for k in keys}
        try:
            found = self.fs.cat(list(paths), on_error="return")
        except Exception as exc:
            raise self._fail("reading", keys[0], exc) from exc
        out: dict[str, bytes] = {}
        for path, data in found.items():
            if isinstance(data, BaseException):
                if _absent(data):
                    continue
                raise self._fail("reading", paths[path], data) from data
            out[paths[path]] = data
        return out

    def list(self, prefix: str) -> list[str]:
        """Every key under `prefix` (relative to the bucket's prefix), sorted."""
        self._guard()
        root = self._path(prefix).rstrip("/")
        try:
            found = self.fs.find(root)
        except Exception as exc:
            if _absent(exc):
                return []
            raise self._fail("listing", prefix, exc) from exc
        base = self._path("")
        return sorted(p[len(base):] for p in found)

    # ---- writes --------------------------------------------------------------------------------------

    def put(self, key: str, data: bytes, *, if_absent: bool = False, if_match: str | None = None) -> str:
        """Write `data` at `key`; returns the new ETag. With `if_absent` or `if_match` the write is
        conditional and raises PreconditionFailed when it loses."""
        self._guard()
        condition: dict[str, str] = {}
        if if_absent:
            condition["IfNoneMatch"] = "*"
        if if_match is not None:
            condition["IfMatch"] = if_match

        async def _put() -> str:
            resp = await self.fs._call_s3("put_object", Bucket=self.bucket, Key=self._key(key), Body=data,
                                          **condition)
            return str(resp.get("ETag", ""))

        try:
            return self._run(_put())
        except Exception as exc:
            info = _client_error(exc)
            if condition and info and (info[0] in _LOST or info[1] in (409, 412)
                                       or (if_match is not None and info[0] in {"NoSuchKey", "404"})):
                raise PreconditionFailed(f"conditional write of s3://{self.bucket}/{self._key(key)} lost "
                                         f"({info[0]})") from None
            raise self._fail("writing", key, exc) from exc

    def delete(self, key: str) -> None:
        self._guard()
        try:
            self.fs.rm_file(self._path(key))
        except Exception as exc:
            if not _absent(exc):
                raise self._fail("deleting", key, exc) from exc

