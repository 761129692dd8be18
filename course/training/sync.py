"""Checkpoint synchronisation between an instance's local folder and S3, as SageMaker does it.

With ``checkpoint_s3_uri`` set, SageMaker:

1. copies what is under the S3 URI into ``checkpoint_local_path`` when the
   instance starts (before the script runs);
2. while the job runs, uploads new and changed files from the local path;
3. deletes the uploaded copy when the script deletes a local file;
4. never copies in files added to S3 after the start.

:class:`CheckpointSync` does this against the local ``s3://`` store
(:class:`course.storage.LocalS3`) with a background thread that scans the
local folder every ``interval`` real seconds; :meth:`CheckpointSync.stop`
makes one last pass, so what the script wrote before it exited is uploaded.
Each upload is atomic on the S3 side: an object is the old or the new file,
never half of one. A file the script is still writing may be uploaded as it
is at that moment (SageMaker does the same); it is uploaded again when it
changes. That is why checkpoints must be written atomically and verified
when loaded.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from course.storage import LocalS3
>>> s3 = LocalS3(tempfile.mkdtemp())
>>> s3.put_object("s3://my-bucket/ckpt/old.txt", "from an earlier launch")
>>> local = Path(tempfile.mkdtemp())
>>> with CheckpointSync(local, "s3://my-bucket/ckpt", s3=s3) as sync:
...     sorted(p.name for p in local.iterdir())
...     _ = (local / "new.txt").write_text("written by the script")
['old.txt']
>>> s3.list_objects("s3://my-bucket/ckpt/")
['s3://my-bucket/ckpt/new.txt', 's3://my-bucket/ckpt/old.txt']
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType

from course.storage import LocalS3

__all__ = ["CheckpointSync"]


class CheckpointSync:
    """Keep ``s3_uri`` in step with the local checkpoint folder of one instance.

    Parameters
    ----------
    local_path : str or os.PathLike
        The instance's checkpoint folder; created if missing.
    s3_uri : str
        ``s3://bucket/prefix`` the checkpoints live under.
    s3 : LocalS3
        The object store.
    interval : float, optional
        Real seconds between scans of the local folder.

    Notes
    -----
    Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    Entering downloads (step 1 above) and starts the thread; leaving stops it
    after a final pass, also when the block raised.
    """

    def __init__(
        self, local_path: str | os.PathLike[str], s3_uri: str, *, s3: LocalS3, interval: float = 0.02
    ) -> None:
        self.local_path = Path(local_path)
        self.s3_uri = s3_uri.rstrip("/")
        self.s3 = s3
        self.interval = interval
        self.uploads = 0
        self.deletes = 0
        self._known: dict[str, tuple[int, int, int]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def __enter__(self) -> CheckpointSync:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def download(self) -> list[str]:
        """Copy every object under the S3 URI into the local folder; return the relative paths."""
        self.local_path.mkdir(parents=True, exist_ok=True)
        copied = []
        for uri in self.s3.list_objects(self.s3_uri + "/"):
            relative = uri[len(self.s3_uri) + 1 :]
            target = self.local_path / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            self.s3.download_file(uri, target)
            stat = target.stat()
            self._known[relative] = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
            copied.append(relative)
        return copied

    def start(self) -> None:
        """Download what S3 holds, then start uploading local changes in the background."""
        self.download()
        self._thread = threading.Thread(target=self._run, name="checkpoint-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread after one final pass; re-raise an error the thread hit."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        if self._error is None:
            self.sync_once()
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                self.sync_once()
        except BaseException as error:  # reported by stop(), in the caller's thread
            self._error = error

    def sync_once(self) -> None:
        """Upload new and changed local files, delete the S3 copies of deleted ones."""
        present: dict[str, tuple[int, int, int]] = {}
        for dirpath, _, filenames in os.walk(self.local_path):
            for filename in filenames:
                path = Path(dirpath, filename)
                try:
                    stat = path.stat()
                except FileNotFoundError:  # renamed or deleted while we looked
                    continue
                present[path.relative_to(self.local_path).as_posix()] = (
                    stat.st_mtime_ns,
                    stat.st_size,
                    stat.st_ino,
                )
        for relative, signature in present.items():
            if self._known.get(relative) == signature:
                continue
            try:
                data = (self.local_path / relative).read_bytes()
            except FileNotFoundError:
                continue
            self.s3.put_object(f"{self.s3_uri}/{relative}", data)
            self._known[relative] = signature
            self.uploads += 1
        for relative in set(self._known) - set(present):
            self.s3.delete_object(f"{self.s3_uri}/{relative}")
            del self._known[relative]
            self.deletes += 1
