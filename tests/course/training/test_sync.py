"""Checkpoint sync follows the documented rules."""

from __future__ import annotations

import threading
import time

import pytest

from course.storage import LocalS3, NoSuchKey
from course.training import CheckpointSync

URI = "s3://ckpt-bucket/job/checkpoints"


def objects(s3: LocalS3) -> dict[str, bytes]:
    """What is under URI now. The background sync may delete an object between the listing and
    the read (as on S3, a listing is not a snapshot): such an object is gone, so it is left out."""
    found = {}
    for uri in s3.list_objects(URI + "/"):
        try:
            found[uri.removeprefix(URI + "/")] = s3.get_object(uri)
        except NoSuchKey:
            continue
    return found


def wait_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the background sync did not catch up"
        time.sleep(0.01)


def test_start_copies_s3_into_the_local_path(s3, tmp_path):
    s3.put_object(f"{URI}/a.bin", b"a")
    s3.put_object(f"{URI}/sub/b.bin", b"b")
    s3.put_object("s3://ckpt-bucket/job/checkpoints-other/c.bin", b"not under the prefix")
    local = tmp_path / "local"
    with CheckpointSync(local, URI, s3=s3):
        assert (local / "a.bin").read_bytes() == b"a"
        assert (local / "sub" / "b.bin").read_bytes() == b"b"
        assert sorted(p.name for p in local.rglob("*") if p.is_file()) == ["a.bin", "b.bin"]


def test_new_and_changed_files_are_uploaded_while_running(s3, tmp_path):
    local = tmp_path / "local"
    with CheckpointSync(local, URI, s3=s3, interval=0.01):
        (local / "x").write_bytes(b"1")
        wait_for(lambda: objects(s3) == {"x": b"1"})
        (local / "x").write_bytes(b"22")
        wait_for(lambda: objects(s3) == {"x": b"22"})


def test_unchanged_downloaded_files_are_not_uploaded_again(s3, tmp_path):
    s3.put_object(f"{URI}/a.bin", b"a")
    with CheckpointSync(tmp_path / "local", URI, s3=s3) as sync:
        pass
    assert sync.uploads == 0 and sync.deletes == 0


def test_a_local_delete_deletes_the_uploaded_copy(s3, tmp_path):
    s3.put_object(f"{URI}/from-s3.bin", b"old")
    local = tmp_path / "local"
    with CheckpointSync(local, URI, s3=s3, interval=0.01):
        (local / "new.bin").write_bytes(b"n")
        wait_for(lambda: "new.bin" in objects(s3))
        (local / "new.bin").unlink()
        (local / "from-s3.bin").unlink()
        wait_for(lambda: objects(s3) == {})


def test_files_added_to_s3_after_start_are_not_copied_in_nor_deleted(s3, tmp_path):
    local = tmp_path / "local"
    with CheckpointSync(local, URI, s3=s3, interval=0.01):
        s3.put_object(f"{URI}/late.bin", b"late")
        (local / "mine.bin").write_bytes(b"m")
        wait_for(lambda: "mine.bin" in objects(s3))
    assert not (local / "late.bin").exists()
    assert objects(s3) == {"late.bin": b"late", "mine.bin": b"m"}


def test_stop_makes_a_final_pass(s3, tmp_path):
    local = tmp_path / "local"
    sync = CheckpointSync(local, URI, s3=s3, interval=60.0)
    sync.start()
    (local / "last.bin").write_bytes(b"written just before the end")
    sync.stop()
    assert objects(s3) == {"last.bin": b"written just before the end"}


def test_an_atomic_rename_is_seen_as_a_new_file_and_a_delete(s3, tmp_path):
    local = tmp_path / "local"
    with CheckpointSync(local, URI, s3=s3, interval=0.01):
        (local / ".ckpt.tmp").write_bytes(b"state")
        wait_for(lambda: ".ckpt.tmp" in objects(s3))
        (local / ".ckpt.tmp").rename(local / "ckpt")
        wait_for(lambda: objects(s3) == {"ckpt": b"state"})


def test_a_failing_upload_is_reported_by_stop(s3, tmp_path, monkeypatch):
    local = tmp_path / "local"
    sync = CheckpointSync(local, URI, s3=s3, interval=0.01)
    sync.start()
    failed = threading.Event()

    def broken_put(uri, data):
        failed.set()
        raise OSError("disk full")

    monkeypatch.setattr(s3, "put_object", broken_put)
    (local / "x").write_bytes(b"1")
    assert failed.wait(5)
    with pytest.raises(OSError, match="disk full"):
        sync.stop()
