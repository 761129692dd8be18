"""A local object store that stands in for Amazon S3.

``s3://bucket/key`` URIs map onto files under a root folder:
``s3://my-bucket/data/train.csv`` is ``<root>/my-bucket/data/train.csv``.
The root is the ``root`` argument of :class:`LocalS3`, else the environment
variable ``COURSE_S3_ROOT``, else ``.local_s3`` in the current directory.

Simplifications compared with S3, which the notebooks point out:

- Buckets need not be created first; writing an object creates its bucket.
- Keys become file paths, so ``/`` separates folders.  A key cannot have an
  empty, ``.`` or ``..`` segment, and one key cannot also be a folder of
  another (``data`` and ``data/train.csv`` cannot both exist).
- There are no versions, metadata, ETags or pagination.

Examples
--------
>>> import tempfile
>>> s3 = LocalS3(tempfile.mkdtemp())
>>> s3.put_object("s3://my-bucket/data/train.csv", "x,y")
>>> s3.get_object("s3://my-bucket/data/train.csv")
b'x,y'
>>> s3.list_objects("s3://my-bucket/data/")
['s3://my-bucket/data/train.csv']
>>> parse_s3_uri("s3://my-bucket/data/train.csv")
('my-bucket', 'data/train.csv')
"""

from __future__ import annotations

import ipaddress
import os
import re
import tempfile
from pathlib import Path

__all__ = ["LocalS3", "NoSuchKey", "parse_s3_uri"]

_BUCKET_CHARS = re.compile(r"[a-z0-9.-]+")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_MAX_KEY_BYTES = 1024
# Bucket names cannot start with ".", so this folder never collides with a bucket.
_TMP_FOLDER = ".tmp"


class NoSuchKey(KeyError):
    """Raised when an object does not exist, like S3's ``NoSuchKey`` error.

    A subclass of :class:`KeyError` whose message is shown as is (a plain
    ``KeyError`` would put it in quotes).
    """

    def __str__(self) -> str:
        return str(self.args[0])


def _bucket_name_problem(bucket: str) -> str | None:
    """Say which S3 bucket naming rule ``bucket`` breaks, or return None."""
    if not 3 <= len(bucket) <= 63:
        return f"it has {len(bucket)} characters"
    if not _BUCKET_CHARS.fullmatch(bucket):
        return "it has characters other than lowercase letters, digits, '.' and '-'"
    if not (bucket[0].isalnum() and bucket[-1].isalnum()):
        return "it does not start and end with a letter or digit"
    if ".." in bucket:
        return "it has two adjacent periods"
    try:
        ipaddress.IPv4Address(bucket)
    except ValueError:
        pass
    else:
        return "it is formatted as an IP address"
    if bucket.startswith(_RESERVED_PREFIXES):
        return f"it starts with a reserved prefix ({', '.join(_RESERVED_PREFIXES)})"
    if bucket.endswith(_RESERVED_SUFFIXES):
        return f"it ends with a reserved suffix ({', '.join(_RESERVED_SUFFIXES)})"
    return None


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """Split an ``s3://bucket/key`` URI into its bucket name and key.

    Parameters
    ----------
    uri : str
        ``s3://bucket`` or ``s3://bucket/key``.  The key may be empty.

    Returns
    -------
    bucket : str
        The bucket name, checked against S3's bucket naming rules.
    key : str
        Everything after the first ``/`` following the bucket; may be empty.

    Raises
    ------
    ValueError
        If ``uri`` does not start with ``s3://`` or the bucket name is invalid.

    Examples
    --------
    >>> parse_s3_uri("s3://my-bucket/models/model.tar.gz")
    ('my-bucket', 'models/model.tar.gz')
    >>> parse_s3_uri("s3://my-bucket")
    ('my-bucket', '')
    >>> parse_s3_uri("s3://My_Bucket/x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: invalid bucket name 'My_Bucket' in 's3://My_Bucket/x': it has characters ...
    """
    if not isinstance(uri, str):
        raise TypeError(f"an S3 URI must be a str such as 's3://my-bucket/key', got {uri!r}")
    if not uri.startswith("s3://"):
        raise ValueError(f"{uri!r} is not an S3 URI; write it as 's3://bucket/key'")
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not bucket:
        raise ValueError(f"{uri!r} has no bucket name; write it as 's3://bucket/key'")
    problem = _bucket_name_problem(bucket)
    if problem is not None:
        raise ValueError(
            f"invalid bucket name {bucket!r} in {uri!r}: {problem}. Bucket names are 3-63 "
            "lowercase letters, digits, '.' and '-', such as 'my-bucket'"
        )
    return bucket, key


def _check_key(key: str, uri: str) -> None:
    """Refuse keys that are empty, too long or cannot map safely onto a file path."""
    if not key:
        raise ValueError(f"{uri!r} names no object; write it as 's3://bucket/key'")
    if len(key.encode()) > _MAX_KEY_BYTES:
        raise ValueError(f"the key in {uri!r} is longer than S3's {_MAX_KEY_BYTES} bytes")
    for segment in key.split("/"):
        if segment == "..":
            raise ValueError(f"the key in {uri!r} has a '..' segment, which would escape the store")
        if segment in ("", "."):
            raise ValueError(
                f"the key in {uri!r} has an empty or '.' segment; the local store maps '/' "
                "to folders, so write keys like 'data/train.csv'"
            )


def _write_atomically(path: Path, data: bytes, *, tmp_folder: Path) -> None:
    """Write ``data`` to a temporary file in ``tmp_folder``, then move it onto ``path``."""
    tmp_folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=tmp_folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


class LocalS3:
    """A folder that behaves like a few S3 buckets.

    Parameters
    ----------
    root : str or os.PathLike, optional
        Folder holding one subfolder per bucket.  Defaults to the environment
        variable ``COURSE_S3_ROOT``, else ``.local_s3`` in the current directory.

    Attributes
    ----------
    root : pathlib.Path
        The absolute root folder.

    Notes
    -----
    Writes are atomic: an object is written to a temporary file in
    ``<root>/.tmp`` and then renamed into place, so a reader sees the old object
    or the new one, never half of one.  The temporary folder is on the same
    file system as the buckets, and listings never show it: bucket names
    cannot start with ``.``.

    Examples
    --------
    >>> import tempfile
    >>> s3 = LocalS3(tempfile.mkdtemp())
    >>> s3.put_object("s3://my-bucket/a.txt", "hello")
    >>> s3.exists("s3://my-bucket/a.txt")
    True
    >>> s3.get_object("s3://my-bucket/b.txt")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    course.storage.NoSuchKey: no object at 's3://my-bucket/b.txt'; list what exists with ...
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        if root is None:
            root = os.environ.get("COURSE_S3_ROOT") or ".local_s3"
        self.root = Path(root).resolve()

    def __repr__(self) -> str:
        return f"LocalS3(root={str(self.root)!r})"

    def local_path(self, uri: str) -> Path:
        """Return the local file that holds the object at ``uri``.

        The file need not exist yet.

        Raises
        ------
        ValueError
            If ``uri`` is not a valid object URI (see :func:`parse_s3_uri`), or
            its key has an empty, ``.`` or ``..`` segment.

        Examples
        --------
        >>> import tempfile
        >>> s3 = LocalS3(tempfile.mkdtemp())
        >>> path = s3.local_path("s3://my-bucket/data/train.csv")
        >>> path.relative_to(s3.root).as_posix()
        'my-bucket/data/train.csv'
        """
        bucket, key = parse_s3_uri(uri)
        _check_key(key, uri)
        return self.root / bucket / key

    def put_object(self, uri: str, data: bytes | str) -> None:
        """Store ``data`` at ``uri``, replacing any object already there.

        Parameters
        ----------
        uri : str
            ``s3://bucket/key`` of the object.
        data : bytes or str
            The content; a str is stored UTF-8 encoded.

        Raises
        ------
        ValueError
            If the key is invalid, or it clashes with a folder of other keys
            (see the module notes).
        """
        if isinstance(data, str):
            data = data.encode()
        if not isinstance(data, bytes):
            raise TypeError(f"data for {uri!r} must be bytes or str, got {type(data).__name__}")
        path = self.local_path(uri)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(path, data, tmp_folder=self.root / _TMP_FOLDER)
        except (FileExistsError, NotADirectoryError, IsADirectoryError) as error:
            raise ValueError(
                f"cannot store {uri!r}: the local store keeps keys in folders, and this key "
                "clashes with an existing key that is also used as a folder (such as 'data' "
                "next to 'data/train.csv'); choose another key or delete the other object"
            ) from error

    def get_object(self, uri: str) -> bytes:
        """Return the content of the object at ``uri``.

        Raises
        ------
        NoSuchKey
            If there is no object at ``uri``.
        """
        path = self.local_path(uri)
        try:
            return path.read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            bucket, _ = parse_s3_uri(uri)
            raise NoSuchKey(
                f"no object at {uri!r}; list what exists with list_objects('s3://{bucket}/')"
            ) from None

    def upload_file(self, path: str | os.PathLike[str], uri: str) -> None:
        """Copy the local file ``path`` to the object at ``uri``."""
        self.put_object(uri, Path(path).read_bytes())

    def download_file(self, uri: str, path: str | os.PathLike[str]) -> None:
        """Copy the object at ``uri`` to the local file ``path``.

        The file is replaced atomically; its folder must exist.

        Raises
        ------
        NoSuchKey
            If there is no object at ``uri``.
        """
        path = Path(path)
        _write_atomically(path, self.get_object(uri), tmp_folder=path.parent)

    def exists(self, uri: str) -> bool:
        """Return True if there is an object at ``uri``."""
        return self.local_path(uri).is_file()

    def delete_object(self, uri: str) -> None:
        """Delete the object at ``uri``.

        As in S3, deleting an object that does not exist is not an error.
        Folders left empty are removed, so their names can be used as keys again.
        """
        path = self.local_path(uri)
        if not path.is_file():
            return
        path.unlink()
        bucket_folder = self.root / parse_s3_uri(uri)[0]
        for folder in path.parents:
            if folder == bucket_folder or any(folder.iterdir()):
                break
            folder.rmdir()

    def list_objects(self, prefix_uri: str) -> list[str]:
        """Return the URIs of all objects whose key starts with the given prefix.

        As with S3's ``ListObjectsV2`` ``Prefix``, the prefix is a plain string,
        not a folder: ``s3://my-bucket/data/tr`` matches ``data/train.csv``.

        Parameters
        ----------
        prefix_uri : str
            ``s3://bucket/prefix``; ``s3://bucket`` lists the whole bucket.

        Returns
        -------
        list of str
            Sorted object URIs; empty if nothing matches.

        Examples
        --------
        >>> import tempfile
        >>> s3 = LocalS3(tempfile.mkdtemp())
        >>> for key in ["data/train.csv", "data/test.csv", "models/model.tar.gz"]:
        ...     s3.put_object(f"s3://my-bucket/{key}", b"")
        >>> s3.list_objects("s3://my-bucket/data/t")
        ['s3://my-bucket/data/test.csv', 's3://my-bucket/data/train.csv']
        >>> s3.list_objects("s3://my-bucket/data/tr")
        ['s3://my-bucket/data/train.csv']
        """
        bucket, prefix = parse_s3_uri(prefix_uri)
        folder = prefix.rpartition("/")[0]
        if folder:
            _check_key(folder, prefix_uri)
        bucket_folder = self.root / bucket
        keys = []
        for dirpath, _, filenames in os.walk(bucket_folder / folder):
            for filename in filenames:
                key = Path(dirpath, filename).relative_to(bucket_folder).as_posix()
                if key.startswith(prefix):
                    keys.append(key)
        return [f"s3://{bucket}/{key}" for key in sorted(keys)]
