"""Endpoint data capture and ground truth, in SageMaker's JSON Lines format.

Used by assignment 05. An endpoint with data capture enabled writes one JSON
object per request to ``<DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/*.jsonl``::

    {"captureData": {
        "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                          "data": "0.5,12,A", "encoding": "CSV"},
        "endpointOutput": {"observedContentType": "text/csv; charset=utf-8", "mode": "OUTPUT",
                           "data": "0.81", "encoding": "CSV"}},
     "eventMetadata": {"eventId": "…", "inferenceTime": "2024-05-01T10:03:00Z"},
     "eventVersion": "0"}

Ground truth for model quality monitoring is uploaded separately, one line per
labelled request, and merged on ``eventId``::

    {"groundTruthData": {"data": "1", "encoding": "CSV"},
     "eventMetadata": {"eventId": "…"}, "eventVersion": "0"}

Reading is forgiving but never silent: a line that is not valid JSON or lacks
the expected fields is skipped and reported (line number and reason) in
:attr:`CaptureData.malformed`.

Examples
--------
>>> import tempfile
>>> s3 = LocalS3(tempfile.mkdtemp())
>>> rows = pd.DataFrame({"income": [1.5, 2.0], "grade": ["A", "B"]})
>>> times = pd.to_datetime(["2024-05-01T10:03:00Z", "2024-05-01T11:30:00Z"])
>>> uris = write_capture(rows, [0.2, 0.9], times, destination_s3_uri="s3://my-bucket/capture",
...                      endpoint_name="loans", s3=s3)
>>> capture = read_capture("s3://my-bucket/capture/loans", feature_names=["income", "grade"], s3=s3)
>>> capture.frame[["income", "grade", "prediction"]]
  income grade prediction
0    1.5     A        0.2
1    2.0     B        0.9
>>> capture.malformed
[]
"""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from course.storage import LocalS3

__all__ = ["CaptureData", "merge_ground_truth", "read_capture", "write_capture", "write_ground_truth"]


@dataclass(frozen=True)
class CaptureData:
    """Captured requests as a table, and the lines that could not be read.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per request: the features (as strings, as captured), ``prediction``
        (string), ``event_id`` and ``inference_time`` (UTC timestamps).
    malformed : list of dict
        ``{"uri", "line", "reason"}`` for every skipped line.
    """

    frame: pd.DataFrame
    malformed: list[dict[str, Any]] = field(default_factory=list)


def _csv_row(values: Sequence[Any]) -> str:
    return ",".join("" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values)


def write_capture(
    features: pd.DataFrame,
    predictions: Sequence[Any],
    inference_times: Sequence[Any],
    *,
    destination_s3_uri: str,
    endpoint_name: str,
    variant_name: str = "AllTraffic",
    event_ids: Sequence[str] | None = None,
    s3: LocalS3 | None = None,
) -> list[str]:
    """Write captured requests the way an endpoint's data capture does, one file per hour.

    Parameters
    ----------
    features : pandas.DataFrame
        The request payloads (sent as CSV rows without a header).
    predictions : sequence
        The endpoint's response per request.
    inference_times : sequence of timestamps
        When each request was served (UTC).
    destination_s3_uri, endpoint_name, variant_name : str
        ``DataCaptureConfig.DestinationS3Uri`` and the endpoint's names.
    event_ids : sequence of str, optional
        Default: random UUIDs.
    s3 : LocalS3, optional

    Returns
    -------
    list of str
        The URIs written.
    """
    s3 = s3 or LocalS3()
    times = pd.to_datetime(pd.Series(list(inference_times)), utc=True)
    n = len(features)
    if len(predictions) != n or len(times) != n:
        raise ValueError(
            f"features ({n} rows), predictions ({len(predictions)}) and inference_times ({len(times)}) must have the same length"
        )
    ids = [str(uuid.uuid4()) for _ in range(n)] if event_ids is None else list(event_ids)
    files: dict[str, list[str]] = {}
    for row, prediction, time, event_id in zip(
        features.itertuples(index=False), predictions, times, ids, strict=True
    ):
        record = {
            "captureData": {
                "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": _csv_row(row), "encoding": "CSV"},
                "endpointOutput": {
                    "observedContentType": "text/csv; charset=utf-8", "mode": "OUTPUT",
                    "data": str(prediction), "encoding": "CSV",
                },
            },
            "eventMetadata": {"eventId": event_id, "inferenceTime": time.strftime("%Y-%m-%dT%H:%M:%SZ")},
            "eventVersion": "0",
        }  # fmt: skip
        key = f"{destination_s3_uri.rstrip('/')}/{endpoint_name}/{variant_name}/{time:%Y/%m/%d/%H}/capture-{time:%Y%m%d%H}.jsonl"
        files.setdefault(key, []).append(json.dumps(record))
    for uri, lines in files.items():
        s3.put_object(uri, "\n".join(lines) + "\n")
    return sorted(files)


def _parse_capture_line(line: str) -> tuple[list[str], str, str, pd.Timestamp]:
    record = json.loads(line)
    if not isinstance(record, dict):
        raise ValueError("the line is not a JSON object")
    capture = record["captureData"]
    request = capture["endpointInput"]
    if request.get("encoding", "CSV") != "CSV":
        raise ValueError(f"encoding {request.get('encoding')!r} is not supported (only CSV)")
    values = next(csv.reader([str(request["data"]).strip()]))
    prediction = str(capture["endpointOutput"]["data"]).strip()
    meta = record["eventMetadata"]
    return [str(v) for v in values], prediction, str(meta["eventId"]), pd.Timestamp(meta["inferenceTime"])


def read_capture(
    prefix_s3_uri: str,
    *,
    feature_names: Sequence[str] | None = None,
    start_time: Any = None,
    end_time: Any = None,
    s3: LocalS3 | None = None,
) -> CaptureData:
    """Read every captured request under ``prefix_s3_uri``, oldest first.

    Parameters
    ----------
    prefix_s3_uri : str
        ``<DestinationS3Uri>/<endpoint>`` (or any prefix below it).
    feature_names : sequence of str, optional
        Names for the CSV columns, by position (the baseline's feature names).
        Columns beyond them are named ``_c<i>``; without names every column is.
    start_time, end_time : timestamp, optional
        Keep requests with ``start_time <= inferenceTime < end_time``.
    s3 : LocalS3, optional

    Returns
    -------
    CaptureData
        Empty values are missing (NaN); skipped lines are listed in ``malformed``.
    """
    s3 = s3 or LocalS3()
    names = list(feature_names or [])
    rows, malformed = [], []
    for uri in s3.list_objects(prefix_s3_uri.rstrip("/") + "/"):
        if not uri.endswith(".jsonl"):
            continue
        for number, line in enumerate(
            s3.get_object(uri).decode("utf-8", errors="replace").splitlines(), start=1
        ):
            if not line.strip():
                continue
            try:
                values, prediction, event_id, time = _parse_capture_line(line)
            except (ValueError, KeyError, TypeError, StopIteration, csv.Error) as error:
                reason = (
                    f"missing field {error}"
                    if isinstance(error, KeyError)
                    else f"{type(error).__name__}: {error}"
                )
                malformed.append({"uri": uri, "line": number, "reason": reason})
                continue
            row = {
                (names[i] if i < len(names) else f"_c{i}"): (v if v != "" else np.nan)
                for i, v in enumerate(values)
            }
            rows.append({**row, "prediction": prediction, "event_id": event_id, "inference_time": time})
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame(columns=[*names, "prediction", "event_id", "inference_time"])
    frame["inference_time"] = pd.to_datetime(frame["inference_time"], utc=True)
    if start_time is not None:
        frame = frame[frame["inference_time"] >= pd.Timestamp(start_time)]
    if end_time is not None:
        frame = frame[frame["inference_time"] < pd.Timestamp(end_time)]
    ordered = [c for c in names if c in frame.columns] + [c for c in frame.columns if c not in names]
    return CaptureData(
        frame.sort_values("inference_time", kind="stable")[ordered].reset_index(drop=True), malformed
    )


def write_ground_truth(
    event_ids: Sequence[str], labels: Sequence[Any], *, ground_truth_s3_uri: str, s3: LocalS3 | None = None
) -> str:
    """Upload ground-truth labels for captured requests (one JSON line each) and return the file's URI."""
    if len(event_ids) != len(labels):
        raise ValueError(f"event_ids ({len(event_ids)}) and labels ({len(labels)}) must have the same length")
    lines = [
        json.dumps(
            {
                "groundTruthData": {"data": str(label), "encoding": "CSV"},
                "eventMetadata": {"eventId": str(e)},
                "eventVersion": "0",
            }
        )
        for e, label in zip(event_ids, labels, strict=True)
    ]
    uri = f"{ground_truth_s3_uri.rstrip('/')}/ground-truth.jsonl"
    (s3 or LocalS3()).put_object(uri, "\n".join(lines) + "\n")
    return uri


def merge_ground_truth(
    capture: CaptureData, ground_truth_s3_uri: str, *, s3: LocalS3 | None = None
) -> pd.DataFrame:
    """Captured requests joined with their ground truth on ``eventId`` (requests without one are dropped).

    The result has a ``ground_truth`` column (string, as uploaded).
    """
    s3 = s3 or LocalS3()
    labels = {}
    for uri in s3.list_objects(ground_truth_s3_uri.rstrip("/") + "/"):
        for line in s3.get_object(uri).decode("utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                labels[record["eventMetadata"]["eventId"]] = str(record["groundTruthData"]["data"]).strip()
    truth = pd.DataFrame({"event_id": list(labels), "ground_truth": list(labels.values())})
    return capture.frame.merge(truth, on="event_id", how="inner")
