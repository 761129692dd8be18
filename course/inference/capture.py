"""Data capture: what a real-time endpoint received and answered, as JSON Lines in S3.

SageMaker writes one JSON object per captured invocation, under
``<DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl``,
sampling ``InitialSamplingPercentage`` percent of the requests. Model Monitor
(assignment 05) reads these files. The record format::

    {"captureData": {
        "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                          "data": "5.1,3.5,1.4,0.2", "encoding": "CSV"},
        "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT",
                           "data": "0", "encoding": "CSV"}},
     "eventMetadata": {"eventId": "...", "inferenceTime": "2024-05-01T12:00:00Z"},
     "eventVersion": "0"}

Payloads whose content type is listed in ``csv_content_types`` or
``json_content_types`` are stored as text (encoding ``CSV`` or ``JSON``),
others base64-encoded (``BASE64``).

Examples
--------
>>> config = DataCaptureConfig(destination_s3_uri="s3://my-bucket/capture", sampling_percentage=100)
>>> record = capture_record(
...     config, request=b"1,2", request_type="text/csv", response=b"0", response_type="text/csv",
...     event_id="e1", inference_time="2024-05-01T12:00:00Z")
>>> record["captureData"]["endpointInput"]
{'observedContentType': 'text/csv', 'mode': 'INPUT', 'data': '1,2', 'encoding': 'CSV'}
>>> record["eventMetadata"]
{'eventId': 'e1', 'inferenceTime': '2024-05-01T12:00:00Z'}
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from course.inference.handlers import media_type
from course.storage import LocalS3, parse_s3_uri

__all__ = ["CAPTURE_OPTIONS", "DataCaptureConfig", "capture_key", "capture_record", "read_capture"]

CAPTURE_OPTIONS: tuple[str, ...] = ("REQUEST", "RESPONSE")


@dataclass(frozen=True)
class DataCaptureConfig:
    """Which invocations an endpoint captures, and where (the SDK's ``DataCaptureConfig``).

    Parameters
    ----------
    destination_s3_uri : str
        ``s3://bucket/prefix`` under which capture files are written.
    enable_capture : bool
        Capture at all.
    sampling_percentage : int
        Percentage of invocations captured, 0 to 100.
    capture_options : list of str
        ``"REQUEST"``, ``"RESPONSE"`` or both.
    csv_content_types, json_content_types : list of str
        Content types stored as text rather than base64.

    Raises
    ------
    ValueError
        If a value is outside what SageMaker accepts.
    """

    destination_s3_uri: str
    enable_capture: bool = True
    sampling_percentage: int = 20
    capture_options: list[str] = field(default_factory=lambda: list(CAPTURE_OPTIONS))
    csv_content_types: list[str] = field(default_factory=lambda: ["text/csv"])
    json_content_types: list[str] = field(default_factory=lambda: ["application/json"])

    def __post_init__(self) -> None:
        parse_s3_uri(self.destination_s3_uri)
        if isinstance(self.sampling_percentage, bool) or not isinstance(self.sampling_percentage, int):
            raise ValueError(
                f"sampling_percentage must be an int from 0 to 100, got {self.sampling_percentage!r}"
            )
        if not 0 <= self.sampling_percentage <= 100:
            raise ValueError(f"sampling_percentage ({self.sampling_percentage}) must be from 0 to 100")
        unknown = sorted(set(self.capture_options) - set(CAPTURE_OPTIONS))
        if unknown or not self.capture_options:
            raise ValueError(
                f"capture_options must be a non-empty list of {CAPTURE_OPTIONS}, got {self.capture_options}"
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain data, to hand to the endpoint process."""
        return asdict(self)


def _payload(config: DataCaptureConfig, data: bytes, content_type: str, mode: str) -> dict[str, str]:
    kind = media_type(content_type)
    if kind in map(media_type, config.csv_content_types):
        text, encoding = data.decode(errors="replace"), "CSV"
    elif kind in map(media_type, config.json_content_types):
        text, encoding = data.decode(errors="replace"), "JSON"
    else:
        text, encoding = base64.b64encode(data).decode(), "BASE64"
    return {"observedContentType": content_type, "mode": mode, "data": text, "encoding": encoding}


def capture_record(
    config: DataCaptureConfig,
    *,
    request: bytes,
    request_type: str,
    response: bytes,
    response_type: str,
    event_id: str,
    inference_time: str,
    inference_id: str | None = None,
) -> dict[str, Any]:
    """Build one capture record in SageMaker's format (see the module notes)."""
    capture: dict[str, Any] = {}
    if "REQUEST" in config.capture_options:
        capture["endpointInput"] = _payload(config, request, request_type, "INPUT")
    if "RESPONSE" in config.capture_options:
        capture["endpointOutput"] = _payload(config, response, response_type, "OUTPUT")
    metadata = {"eventId": event_id, "inferenceTime": inference_time}
    if inference_id is not None:
        metadata["inferenceId"] = inference_id
    return {"captureData": capture, "eventMetadata": metadata, "eventVersion": "0"}


def capture_key(destination_s3_uri: str, endpoint_name: str, variant_name: str, when: datetime) -> str:
    """The URI of a new capture file written at ``when`` (UTC).

    >>> from datetime import datetime, timezone
    >>> capture_key("s3://my-bucket/capture", "ep", "AllTraffic",
    ...             datetime(2024, 5, 1, 12, 3, 4, 5000, tzinfo=timezone.utc))[:60]
    's3://my-bucket/capture/ep/AllTraffic/2024/05/01/12/03-04-005'
    """
    prefix = destination_s3_uri.rstrip("/")
    stamp = when.strftime("%Y/%m/%d/%H/%M-%S-") + f"{when.microsecond // 1000:03d}"
    return f"{prefix}/{endpoint_name}/{variant_name}/{stamp}-{uuid.uuid4()}.jsonl"


def read_capture(prefix_uri: str, *, s3: LocalS3 | None = None) -> list[dict[str, Any]]:
    """Read every capture record under ``prefix_uri``, oldest file first.

    Returns
    -------
    list of dict
        The records, in file-name order (file names start with the time).
    """
    store = s3 or LocalS3()
    records = []
    for uri in store.list_objects(prefix_uri):
        if uri.endswith(".jsonl"):
            records.extend(json.loads(line) for line in store.get_object(uri).decode().splitlines() if line)
    return records
