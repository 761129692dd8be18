"""Input and output manifests."""

import json
import math
from datetime import datetime

import pytest

from course.labeling import label_record, parse_manifest, read_manifest, write_manifest
from course.labeling.manifest import check_label_attribute_name


def test_read_skips_blank_lines_and_keeps_fields(tmp_path):
    path = tmp_path / "input.manifest"
    path.write_text('{"source-ref": "s3://b/0.png", "id": 7}\n\n{"source": "some text"}\n')
    assert read_manifest(path) == [{"source-ref": "s3://b/0.png", "id": 7}, {"source": "some text"}]


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"source-ref": "a"}\n{"source-ref": \n', "line 2: not valid JSON"),
        ('{"source-ref": "a"}\n\n["s3://b/1.png"]\n', "line 3: a JSON list, not an object"),
        ('{"source-ref": "a"}\n{"image": "s3://b/1.png"}\n', "line 2: no 'source-ref' or 'source'"),
    ],
)
def test_bad_lines_name_their_line_number(tmp_path, text, message):
    path = tmp_path / "input.manifest"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_manifest(path)


def test_output_line_has_ground_truth_format():
    line = label_record(
        {"source-ref": "s3://b/0.png", "keep": 1},
        label_attribute_name="digit",
        class_id=3,
        class_name="three",
        confidence=0.875,
        labeling_job_name="digits",
        human_annotated=True,
        creation_date="2024-05-01T12:00:00.000001",
    )
    assert line["source-ref"] == "s3://b/0.png" and line["keep"] == 1
    assert type(line["digit"]) is int and line["digit"] == 3
    assert line["digit-metadata"] == {
        "class-name": "three",
        "confidence": 0.875,
        "type": "groundtruth/image-classification",
        "job-name": "labeling-job/digits",
        "human-annotated": "yes",
        "creation-date": "2024-05-01T12:00:00.000001",
    }
    datetime.fromisoformat(line["digit-metadata"]["creation-date"])


def test_write_then_read_round_trip(tmp_path):
    records = [{"source-ref": f"s3://b/{i}.png", "digit": i, "digit-metadata": {"x": i}}
               for i in range(5)]  # fmt: skip
    path = write_manifest(tmp_path / "out.manifest", records)
    assert read_manifest(path) == records
    assert parse_manifest(path.read_text().splitlines()) == records


def test_failed_write_leaves_previous_file_and_no_temp(tmp_path):
    path = tmp_path / "out.manifest"
    write_manifest(path, [{"source-ref": "old"}])
    with pytest.raises(ValueError):
        write_manifest(path, [{"source-ref": "new"}, {"source-ref": "bad", "v": math.nan}])
    assert read_manifest(path) == [{"source-ref": "old"}]
    assert [p.name for p in tmp_path.iterdir()] == ["out.manifest"]


def test_failed_first_write_leaves_nothing(tmp_path):
    with pytest.raises(TypeError):
        write_manifest(tmp_path / "out.manifest", [{"source-ref": object()}])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "name, message",
    [("digit-metadata", "-metadata"), ("digit-ref", "-ref"), ("", "non-empty"),
     ("source-ref", "-ref"), ("source", "overwrite")],
)  # fmt: skip
def test_label_attribute_name_rules(name, message):
    with pytest.raises(ValueError, match=message):
        check_label_attribute_name(name)


def test_confidence_out_of_range():
    with pytest.raises(ValueError, match=r"confidence \(1.5\)"):
        label_record({"source": "x"}, label_attribute_name="l", class_id=0, class_name="a",
                     confidence=1.5, labeling_job_name="j", human_annotated=False,
                     creation_date="2024-01-01T00:00:00")  # fmt: skip


def test_records_are_json_lines(tmp_path):
    path = write_manifest(tmp_path / "out.manifest", [{"source": "a"}, {"source": "b"}])
    assert [json.loads(line) for line in path.read_text().splitlines()] == [
        {"source": "a"},
        {"source": "b"},
    ]
