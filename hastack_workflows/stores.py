"""The two operations checkpoints need from an object store, and two implementations.

`FsspecStore` reaches S3 (s3fs) and GCS (gcsfs) through the SDKs' default credential
chains, i.e. the pod's IRSA web-identity token or Workload Identity: no keys here.
"""

from __future__ import annotations

from typing import Any, Protocol


class ObjectStore(Protocol):
    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is no such object."""
        ...

    def put(self, key: str, data: bytes) -> None:
        """Write the whole object (object stores make a single PUT atomic)."""
        ...


class MemoryStore:
    """A dict; for unit tests and dry runs."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.objects.get(key)

    def put(self, key: str, data: bytes) -> None:
        self.objects[key] = bytes(data)


class FsspecStore:
    """Objects under `base_url` (`s3://bucket/prefix`, `gs://bucket/prefix`, `file:///...`)."""

    def __init__(self, base_url: str, **storage_options: Any) -> None:
        import fsspec  # imported here: only flow images that use a real bucket need it

        protocol, _, path = base_url.partition("://")
        if not path:
            raise ValueError(f"checkpoint URL {base_url!r} needs a scheme, e.g. s3://bucket/prefix")
        self.base = path.rstrip("/")
        if protocol == "file":
            # Object stores have no directories; a local one needs them created.
            storage_options.setdefault("auto_mkdir", True)
        # A fresh instance: fsspec caches filesystems (and their listings) per process.
        self.fs = fsspec.filesystem(protocol, skip_instance_cache=True, **storage_options)

    def _path(self, key: str) -> str:
        if key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"object key {key!r} must be relative and must not contain '..'")
        return f"{self.base}/{key}"

    def get(self, key: str) -> bytes | None:
        try:
            data: bytes = self.fs.cat_file(self._path(key))
        except FileNotFoundError:
            return None
        return data

    def put(self, key: str, data: bytes) -> None:
        self.fs.pipe_file(self._path(key), data)


def store_from_url(url: str, **storage_options: Any) -> ObjectStore:
    """`memory://` for a throw-away store, anything else through fsspec."""
    if url == "memory://":
        return MemoryStore()
    return FsspecStore(url, **storage_options)
