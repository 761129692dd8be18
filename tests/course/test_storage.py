import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course.storage import LocalS3, NoSuchKey, parse_s3_uri


@pytest.fixture
def s3(tmp_path: Path) -> LocalS3:
    return LocalS3(tmp_path / "store")


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://my-bucket/data/train.csv", ("my-bucket", "data/train.csv")),
        ("s3://my-bucket", ("my-bucket", "")),
        ("s3://my-bucket/", ("my-bucket", "")),
        ("s3://a.b-c/x//y", ("a.b-c", "x//y")),
        ("s3://" + "a" * 63 + "/k", ("a" * 63, "k")),
    ],
)
def test_parse_s3_uri(uri, expected):
    assert parse_s3_uri(uri) == expected


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("my-bucket/key", "not an S3 URI"),
        ("S3://my-bucket/key", "not an S3 URI"),
        ("s3:/my-bucket/key", "not an S3 URI"),
        ("s3:///key", "no bucket name"),
        ("s3://ab/key", "it has 2 characters"),
        ("s3://" + "a" * 64 + "/key", "it has 64 characters"),
        ("s3://My-Bucket/key", "characters other than"),
        ("s3://my_bucket/key", "characters other than"),
        ("s3://-bucket/key", "start and end with a letter or digit"),
        ("s3://bucket./key", "start and end with a letter or digit"),
        ("s3://my..bucket/key", "two adjacent periods"),
        ("s3://192.168.5.4/key", "IP address"),
        ("s3://xn--bucket/key", "reserved prefix"),
        ("s3://sthree-bucket/key", "reserved prefix"),
        ("s3://bucket-s3alias/key", "reserved suffix"),
        ("s3://bucket--ol-s3/key", "reserved suffix"),
    ],
)
def test_parse_s3_uri_rejects_bad_uris(uri, message):
    with pytest.raises(ValueError, match=message):
        parse_s3_uri(uri)


def test_parse_s3_uri_rejects_non_strings():
    with pytest.raises(TypeError, match="must be a str"):
        parse_s3_uri(Path("s3://my-bucket/key"))


def test_root_from_argument_env_var_or_current_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_S3_ROOT", raising=False)
    monkeypatch.chdir(tmp_path)
    assert LocalS3().root == tmp_path.resolve() / ".local_s3"
    monkeypatch.setenv("COURSE_S3_ROOT", str(tmp_path / "from-env"))
    assert LocalS3().root == tmp_path.resolve() / "from-env"
    assert LocalS3(tmp_path / "explicit").root == tmp_path.resolve() / "explicit"


def test_local_path_maps_bucket_and_key_under_root(s3):
    assert s3.local_path("s3://my-bucket/a/b.txt") == s3.root / "my-bucket" / "a" / "b.txt"


@pytest.mark.parametrize(
    ("data", "stored"), [(b"\x00\xff", b"\x00\xff"), ("héllo", "héllo".encode()), (b"", b"")]
)
def test_put_get_round_trip(s3, data, stored):
    s3.put_object("s3://my-bucket/obj", data)
    assert s3.get_object("s3://my-bucket/obj") == stored


def test_put_replaces_existing_object(s3):
    s3.put_object("s3://my-bucket/obj", b"old")
    s3.put_object("s3://my-bucket/obj", b"new")
    assert s3.get_object("s3://my-bucket/obj") == b"new"


def test_put_rejects_other_data_types(s3):
    with pytest.raises(TypeError, match="must be bytes or str, got list"):
        s3.put_object("s3://my-bucket/obj", [1, 2])


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "names no object"),
        ("../outside", "escape"),
        ("a/../../outside", "escape"),
        ("a/..", "escape"),
        ("a//b", "empty or '.' segment"),
        ("/a", "empty or '.' segment"),
        ("a/", "empty or '.' segment"),
        ("./a", "empty or '.' segment"),
        ("k" * 1025, "1024 bytes"),
    ],
)
@pytest.mark.parametrize("method", ["put_object", "get_object", "exists", "delete_object"])
def test_bad_keys_are_refused(s3, key, message, method):
    args = ("s3://my-bucket/" + key, b"x") if method == "put_object" else ("s3://my-bucket/" + key,)
    with pytest.raises(ValueError, match=message):
        getattr(s3, method)(*args)
    assert not (s3.root.parent / "outside").exists()


def test_missing_object_raises_no_such_key_with_uri(s3):
    with pytest.raises(NoSuchKey) as excinfo:
        s3.get_object("s3://my-bucket/missing.csv")
    assert isinstance(excinfo.value, KeyError)
    assert str(excinfo.value).startswith("no object at 's3://my-bucket/missing.csv'")


def test_a_folder_is_not_an_object(s3):
    s3.put_object("s3://my-bucket/data/train.csv", b"x")
    assert not s3.exists("s3://my-bucket/data")
    with pytest.raises(NoSuchKey):
        s3.get_object("s3://my-bucket/data")


@pytest.mark.parametrize(("first", "second"), [("data", "data/train.csv"), ("data/train.csv", "data")])
def test_key_that_clashes_with_a_folder_is_refused(s3, first, second):
    s3.put_object(f"s3://my-bucket/{first}", b"1")
    with pytest.raises(ValueError, match="clashes with an existing key"):
        s3.put_object(f"s3://my-bucket/{second}", b"2")
    assert s3.list_objects("s3://my-bucket") == [f"s3://my-bucket/{first}"]


def test_exists_and_delete(s3):
    uri = "s3://my-bucket/a/b/c.txt"
    assert not s3.exists(uri)
    s3.put_object(uri, b"x")
    assert s3.exists(uri)
    s3.delete_object(uri)
    assert not s3.exists(uri)
    s3.delete_object(uri)


def test_delete_removes_empty_folders_so_their_names_can_be_keys(s3):
    s3.put_object("s3://my-bucket/a/b/c.txt", b"x")
    s3.put_object("s3://my-bucket/a/other.txt", b"y")
    s3.delete_object("s3://my-bucket/a/b/c.txt")
    assert not (s3.root / "my-bucket" / "a" / "b").exists()
    assert (s3.root / "my-bucket" / "a").is_dir()
    s3.put_object("s3://my-bucket/a/b", b"z")
    assert s3.get_object("s3://my-bucket/a/b") == b"z"


def test_upload_and_download_file(s3, tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(b"payload")
    s3.upload_file(source, "s3://my-bucket/in/source.bin")
    target = tmp_path / "target.bin"
    s3.download_file("s3://my-bucket/in/source.bin", target)
    assert target.read_bytes() == b"payload"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source.bin", "store", "target.bin"]


def test_download_missing_object_leaves_target_alone(s3, tmp_path):
    target = tmp_path / "target.bin"
    target.write_bytes(b"keep")
    with pytest.raises(NoSuchKey):
        s3.download_file("s3://my-bucket/missing", target)
    assert target.read_bytes() == b"keep"


def test_failed_write_leaves_old_object_and_no_temporary_file(s3, monkeypatch):
    uri = "s3://my-bucket/obj"
    s3.put_object(uri, b"old")

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        s3.put_object(uri, b"new")
    monkeypatch.undo()
    assert s3.get_object(uri) == b"old"
    assert [p for p in s3.root.rglob("*") if p.is_file()] == [s3.local_path(uri)]


KEYS = ["data/train.csv", "data/test.csv", "data/val/part-0", "database.csv", "models/m.tar.gz"]


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("", KEYS),
        ("data", ["data/train.csv", "data/test.csv", "data/val/part-0", "database.csv"]),
        ("data/", ["data/train.csv", "data/test.csv", "data/val/part-0"]),
        ("data/t", ["data/train.csv", "data/test.csv"]),
        ("data/tr", ["data/train.csv"]),
        ("data/train.csv", ["data/train.csv"]),
        ("data/val/", ["data/val/part-0"]),
        ("data/train.csv/", []),
        ("nothing", []),
    ],
)
def test_list_objects_uses_string_prefixes(s3, prefix, expected):
    for key in KEYS:
        s3.put_object(f"s3://my-bucket/{key}", b"")
    s3.put_object("s3://other-bucket/data/x", b"")
    assert s3.list_objects(f"s3://my-bucket/{prefix}") == sorted(f"s3://my-bucket/{key}" for key in expected)


def test_list_objects_of_missing_bucket_is_empty(s3):
    assert s3.list_objects("s3://no-such-bucket") == []


def test_list_objects_refuses_prefix_that_escapes(s3):
    with pytest.raises(ValueError, match="escape"):
        s3.list_objects("s3://my-bucket/../other-bucket/")


segments = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"),
    min_size=1,
    max_size=12,
).filter(lambda segment: segment not in (".", ".."))
keys = st.lists(segments, min_size=1, max_size=3).map("/".join)


@settings(max_examples=50, deadline=None)
@given(objects=st.dictionaries(keys, st.binary(max_size=64), min_size=1, max_size=8))
def test_property_put_get_list_round_trip(tmp_path_factory, objects):
    objects = {
        key: data
        for key, data in objects.items()
        if not any(other.startswith(key + "/") for other in objects)
    }
    s3 = LocalS3(tmp_path_factory.mktemp("store"))
    for key, data in objects.items():
        s3.put_object(f"s3://my-bucket/{key}", data)
    assert s3.list_objects("s3://my-bucket") == [f"s3://my-bucket/{key}" for key in sorted(objects)]
    for key, data in objects.items():
        assert s3.get_object(f"s3://my-bucket/{key}") == data
        prefix = key[: len(key) // 2]
        expected = sorted(k for k in objects if k.startswith(prefix))
        assert s3.list_objects(f"s3://my-bucket/{prefix}") == [f"s3://my-bucket/{k}" for k in expected]
