"""A small object-store interface over local disk and S3 (boto3), shared by the lake and the reports.

Objects are whole files written in one step: a local write goes to a temporary file that is renamed into
place and an S3 PUT replaces an object whole, so a reader sees the old bytes or the new ones, never a mix.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse


class ObjectStore(Protocol):
    uri: str

    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...
    def get_tail(self, key: str, size: int) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def list(self, prefix: str) -> list[str]: ...
    def delete(self, key: str) -> None: ...
    def copy(self, src: str, dst: str) -> None: ...
    def url(self, key: str) -> str: ...


class LocalStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.uri = str(self.root)

    def _path(self, key: str) -> Path:
        return self.root / key

    def put(self, key: str, data: bytes) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(f"no object {key!r} in {self.uri}") from None

    def get_tail(self, key: str, size: int) -> bytes:
        """The last `size` bytes (all of them, for a smaller object): a Parquet footer without the rows."""
        try:
            with self._path(key).open("rb") as handle:
                handle.seek(-min(size, handle.seek(0, os.SEEK_END)), os.SEEK_END)
                return handle.read()
        except FileNotFoundError:
            raise KeyError(f"no object {key!r} in {self.uri}") from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> list[str]:
        base = self._path(prefix)
        folder = base if base.is_dir() else base.parent
        if not folder.exists():
            return []
        keys = []
        # os.walk, not Path.rglob: a year of daily records is ~10k files, and rglob's per-file Path objects and
        # stat calls made listing them take seconds (measured by benchmarks/bench_view.py).
        for folder_path, _, files in os.walk(folder):
            relative = os.path.relpath(folder_path, self.root).replace(os.sep, "/")
            stem = "" if relative == "." else relative + "/"
            keys += [stem + name for name in files if not name.startswith(".tmp-")]
        return sorted(k for k in keys if k.startswith(prefix))

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        # Drop folders the delete left empty, so listings do not show ghost partitions.
        for parent in path.parents:
            if parent == self.root or not parent.exists() or any(parent.iterdir()):
                break
            parent.rmdir()

    def copy(self, src: str, dst: str) -> None:
        self.put(dst, self.get(src))

    def url(self, key: str) -> str:
        return self._path(key).resolve().as_uri()


class S3Store:
    """S3 or any S3-compatible store; `AWS_ENDPOINT_URL` (read by boto3 itself) selects MinIO or moto."""

    def __init__(self, uri: str, client=None):
        parsed = urlparse(uri)
        self.uri = uri.rstrip("/")
        self.bucket = parsed.netloc
        self.prefix = parsed.path.strip("/")
        if client is None:
            import boto3

            client = boto3.client("s3")
        self.client = client

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def get(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except self.client.exceptions.NoSuchKey:
            raise KeyError(f"no object {key!r} in {self.uri}") from None

    def get_tail(self, key: str, size: int) -> bytes:
        """The last `size` bytes, by a suffix-range GET (S3 returns the whole object when it is smaller)."""
        try:
            reply = self.client.get_object(Bucket=self.bucket, Key=self._key(key), Range=f"bytes=-{size}")
        except self.client.exceptions.NoSuchKey:
            raise KeyError(f"no object {key!r} in {self.uri}") from None
        return reply["Body"].read()

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def list(self, prefix: str) -> list[str]:
        strip = len(self.prefix) + 1 if self.prefix else 0
        keys: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self._key(prefix)):
            keys += [obj["Key"][strip:] for obj in page.get("Contents", [])]
        return sorted(keys)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def copy(self, src: str, dst: str) -> None:
        source = {"Bucket": self.bucket, "Key": self._key(src)}
        self.client.copy_object(Bucket=self.bucket, Key=self._key(dst), CopySource=source)

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"


def open_store(uri: str) -> ObjectStore:
    if uri.startswith("s3://"):
        return S3Store(uri)
    if "://" in uri and not uri.startswith("file://"):
        raise ValueError(f"unsupported storage URI {uri!r}: use a local path, file:// or s3://bucket/prefix")
    return LocalStore(uri.removeprefix("file://"))
