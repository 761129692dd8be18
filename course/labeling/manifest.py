"""Ground Truth manifests: JSON Lines in, JSON Lines with labels out.

An input manifest has one JSON object per line, each naming its data object
with ``source-ref`` (an S3 URI) or ``source`` (inline text). The output
manifest repeats each input line and adds the label attribute and its metadata,
as Ground Truth's image-classification jobs do::

    {"source-ref": "s3://bucket/img.png", "digit": 3,
     "digit-metadata": {"class-name": "3", "confidence": 0.97,
                        "type": "groundtruth/image-classification",
                        "job-name": "labeling-job/digits", "human-annotated": "no",
                        "creation-date": "2024-05-01T12:00:00.000000"}}

Examples
--------
>>> record = label_record({"source-ref": "s3://b/0.png"}, label_attribute_name="digit",
...     class_id=3, class_name="3", confidence=0.97, labeling_job_name="digits",
...     human_annotated=False, creation_date="2024-05-01T12:00:00.000000")
>>> record["digit"], record["digit-metadata"]["job-name"]
(3, 'labeling-job/digits')
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "IMAGE_CLASSIFICATION_TYPE",
    "SOURCE_FIELDS",
    "check_label_attribute_name",
    "label_record",
    "now_iso",
    "parse_manifest",
    "read_manifest",
    "write_manifest",
]

SOURCE_FIELDS = ("source-ref", "source")
IMAGE_CLASSIFICATION_TYPE = "groundtruth/image-classification"


def now_iso() -> str:
    """Current UTC time as Ground Truth writes ``creation-date`` (ISO-8601, microseconds)."""
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def parse_manifest(lines: Iterable[str], *, name: str = "manifest") -> list[dict[str, Any]]:
    """Parse JSON Lines; blank lines are skipped, anything else must be a data object.

    >>> parse_manifest(['{"source-ref": "s3://b/0.png"}', '', '{"source": "hello"}'])
    [{'source-ref': 's3://b/0.png'}, {'source': 'hello'}]
    >>> parse_manifest(['{"image": "s3://b/0.png"}'], name="in.manifest")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: in.manifest line 1: no 'source-ref' or 'source' field; each line must name ...
    """
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(
                f"{name} line {number}: not valid JSON ({error.msg}); each line must be one JSON object"
            ) from None
        if not isinstance(record, dict):
            raise ValueError(
                f"{name} line {number}: a JSON {type(record).__name__}, not an object; each "
                "line must be one JSON object"
            )
        if not any(field in record for field in SOURCE_FIELDS):
            raise ValueError(
                f"{name} line {number}: no 'source-ref' or 'source' field; each line must name "
                'its data object, e.g. {"source-ref": "s3://bucket/image.png"}'
            )
        records.append(record)
    return records


def read_manifest(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read an input manifest (JSON Lines), checking every line.

    Raises
    ------
    ValueError
        With the line number, for a line that is not a JSON object or names no
        data object.
    """
    path = Path(path)
    with path.open(encoding="utf-8") as file:
        return parse_manifest(file, name=str(path))


def write_manifest(path: str | os.PathLike[str], records: Iterable[dict[str, Any]]) -> Path:
    """Write records as JSON Lines, atomically.

    The lines go to a temporary file in the same folder, which replaces
    ``path`` only once every record is written: on any error the previous file
    (or no file) stays, never a half-written one.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            for record in records:
                file.write(json.dumps(record, allow_nan=False) + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def check_label_attribute_name(label_attribute_name: str) -> None:
    """Ground Truth's rules for ``LabelAttributeName`` in classification jobs.

    >>> check_label_attribute_name("digit-ref")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: label_attribute_name 'digit-ref' must not end with '-ref' ... e.g. 'digit'
    """
    name = label_attribute_name
    if not isinstance(name, str) or not name:
        raise ValueError("label_attribute_name must be a non-empty string, e.g. 'digit'")
    if "-metadata" in name:
        raise ValueError(
            f"label_attribute_name {name!r} must not contain '-metadata' (Ground Truth adds "
            "'<name>-metadata' itself); pick another name"
        )
    if name.endswith("-ref"):
        stem = name.removesuffix("-ref")
        raise ValueError(
            f"label_attribute_name {name!r} must not end with '-ref' (reserved for segmentation "
            f"jobs); pick another name, e.g. {stem!r}"
        )
    if name in SOURCE_FIELDS:
        raise ValueError(f"label_attribute_name {name!r} would overwrite the data object field")


def label_record(
    record: dict[str, Any],
    *,
    label_attribute_name: str,
    class_id: int,
    class_name: str,
    confidence: float,
    labeling_job_name: str,
    human_annotated: bool,
    creation_date: str,
) -> dict[str, Any]:
    """One output manifest line: the input record plus the label and its metadata."""
    if not 0.0 <= confidence <= 1.0:
        raise ValueError(f"confidence ({confidence}) must be in [0, 1]")
    labeled = dict(record)
    labeled[label_attribute_name] = int(class_id)
    labeled[f"{label_attribute_name}-metadata"] = {
        "class-name": class_name,
        "confidence": round(float(confidence), 4),
        "type": IMAGE_CLASSIFICATION_TYPE,
        "job-name": f"labeling-job/{labeling_job_name}",
        "human-annotated": "yes" if human_annotated else "no",
        "creation-date": creation_date,
    }
    return labeled
