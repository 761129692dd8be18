"""The inference handler contract of SageMaker's framework containers.

A model artifact's ``code/inference.py`` may define four functions, each with
a default when it is missing (used by assignment 04 and by every endpoint,
batch transform and worker of :mod:`course.inference`):

- ``model_fn(model_dir)`` loads the model; the default loads
  ``model_dir/model.joblib`` (the file name SageMaker's scikit-learn examples
  save to).
- ``input_fn(request_body, request_content_type)`` turns the request bytes
  into model input; the default decodes ``text/csv``, ``application/json`` and
  ``application/x-npy`` into a 2-D NumPy array (one row per record).
- ``predict_fn(input_data, model)`` predicts; the default calls
  ``model.predict``.
- ``output_fn(prediction, accept)`` encodes the prediction for the ``Accept``
  type (``text/csv``: one record per line; ``application/json``: a JSON list).

Or ``transform_fn(model, request_body, request_content_type, accept)`` does
the last three in one step; defining it together with any of them is an error,
as in the SageMaker inference toolkit. ``output_fn`` and ``transform_fn`` may
return the body alone (its content type is then ``accept``) or a
``(body, content_type)`` pair.

Errors carry the HTTP status the container answers with: 400 for a request
the handler cannot parse, 415 for a content type it does not support, 500 for
anything else a handler raises.

Examples
--------
>>> import numpy as np
>>> decode(b"1,2\\n3,4\\n", "text/csv")
array([[1., 2.],
       [3., 4.]])
>>> encode(np.array([0, 1]), "application/json")
b'[0, 1]'
>>> encode(np.array([0.5, 1.0]), "text/csv")
b'0.5\\n1.0\\n'
>>> decode(b"[1, 2", "application/json")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
course.inference.handlers.InvalidInput: the application/json payload is not valid JSON (...); send ...
"""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np

__all__ = [
    "CONTENT_TYPES",
    "DEFAULT_ACCEPT",
    "HANDLER_NAMES",
    "MODEL_FILENAME",
    "HandlerError",
    "Handlers",
    "InferenceHandler",
    "InvalidInput",
    "UnsupportedContentType",
    "decode",
    "encode",
    "load_handlers",
    "media_type",
]

CONTENT_TYPES: tuple[str, ...] = ("text/csv", "application/json", "application/x-npy")
"""The content types the default ``input_fn`` and ``output_fn`` understand."""

DEFAULT_ACCEPT = "application/json"
"""The response type when a request has no ``Accept`` header or accepts ``*/*``."""

MODEL_FILENAME = "model.joblib"
"""The file the default ``model_fn`` loads from the model directory."""

_SMALL_CSV_BYTES = 16 * 1024

HANDLER_NAMES: tuple[str, ...] = ("model_fn", "input_fn", "predict_fn", "output_fn", "transform_fn")


class HandlerError(Exception):
    """A handler failed; ``status_code`` is the HTTP status the container answers with."""

    status_code = 500


class InvalidInput(HandlerError, ValueError):
    """The request body cannot be parsed as its content type says (HTTP 400)."""

    status_code = 400


class UnsupportedContentType(HandlerError, ValueError):
    """The handler does not support the request's content type or ``Accept`` (HTTP 415)."""

    status_code = 415


def media_type(content_type: str | None) -> str:
    """Return the media type of a ``Content-Type`` header, lower case, without parameters.

    >>> media_type("text/csv; charset=utf-8")
    'text/csv'
    >>> media_type(None)
    ''
    """
    return (content_type or "").split(";", 1)[0].strip().lower()


def decode(body: bytes, content_type: str) -> np.ndarray:
    """Decode a request body into a 2-D array with one row per record (the default ``input_fn``).

    Parameters
    ----------
    body : bytes
        The request payload.
    content_type : str
        ``text/csv`` (numeric, no header), ``application/json`` (a list of
        numbers for one record, or a list of lists) or ``application/x-npy``.

    Raises
    ------
    InvalidInput
        If the body is empty, malformed, ragged or not numeric.
    UnsupportedContentType
        For any other content type.
    """
    kind = media_type(content_type)
    if kind not in CONTENT_TYPES:
        raise UnsupportedContentType(
            f"content type {content_type!r} is not supported; send one of {', '.join(CONTENT_TYPES)}"
        )
    if not body.strip():
        raise InvalidInput(f"the {kind} payload is empty; send at least one record")
    if kind == "text/csv":
        array = _decode_csv(body)
    elif kind == "application/json":
        array = _decode_json(body)
    else:
        try:
            array = np.load(io.BytesIO(body), allow_pickle=False)
        except ValueError as error:
            raise InvalidInput(f"the application/x-npy payload is not a NumPy .npy file ({error})") from None
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim != 2 or array.dtype.kind not in "biuf":
        raise InvalidInput(
            f"the {kind} payload must be numeric records (one row per record), got an array of "
            f"shape {array.shape} and dtype {array.dtype}"
        )
    return array


def _decode_small_csv(body: bytes) -> np.ndarray:
    """Parse a short CSV payload in plain Python (a CSV library costs about a millisecond per call)."""
    rows = [line.split(b",") for line in body.splitlines() if line.strip()]
    width = len(rows[0])
    for number, row in enumerate(rows, start=1):
        if len(row) != width:
            raise InvalidInput(
                f"line {number} of the text/csv payload has {len(row)} fields, line 1 has {width}; "
                "every line needs the same number of numeric fields"
            )
    try:
        return np.array([[float(field) for field in row] for row in rows])
    except ValueError as error:
        raise InvalidInput(
            f"the text/csv payload is not numeric CSV ({error}); send rows like '1.0,2.5,3'"
        ) from None


def _decode_csv(body: bytes) -> np.ndarray:
    if len(body) <= _SMALL_CSV_BYTES:
        array = _decode_small_csv(body)
    else:
        array = _decode_large_csv(body)
    missing = np.isnan(array).any(axis=1)
    if missing.any():
        raise InvalidInput(
            f"line {int(np.flatnonzero(missing)[0]) + 1} of the text/csv payload has empty or missing "
            "fields; every line needs the same number of numeric fields"
        )
    return array


def _decode_large_csv(body: bytes) -> np.ndarray:
    """Parse a long CSV payload with Arrow's CSV reader (one thread; rounds correctly, like ``float``)."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    options = pa_csv.ReadOptions(autogenerate_column_names=True, use_threads=False)
    if not body.endswith(b"\n"):
        body += b"\n"  # Arrow cannot tell the columns of a single line without its newline
    try:
        table = pa_csv.read_csv(io.BytesIO(body), read_options=options)
    except pa.ArrowInvalid as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InvalidInput(
            f"the text/csv payload is not numeric CSV with the same number of fields on every "
            f"line ({first}); send rows like '1.0,2.5,3'"
        ) from None
    columns = []
    for number, column in enumerate(table.columns, start=1):
        if pa.types.is_null(column.type):  # every value of the column is empty
            columns.append(np.full(len(column), np.nan))
        elif pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
            columns.append(column.to_numpy().astype(float, copy=False))
        else:
            raise InvalidInput(
                f"field {number} of the text/csv payload is not numeric ({column.type}); "
                "send rows like '1.0,2.5,3'"
            )
    return np.column_stack(columns)


def _decode_json(body: bytes) -> np.ndarray:
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput(
            f"the application/json payload is not valid JSON ({error}); send a list of numbers "
            "or a list of lists such as [[1.0, 2.5], [0.3, 4]]"
        ) from None
    try:
        return np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise InvalidInput(
            "the application/json payload must be a list of numbers or a list of equally long "
            "lists of numbers, such as [[1.0, 2.5], [0.3, 4]]"
        ) from None


def encode(prediction: Any, accept: str) -> bytes:
    """Encode a prediction for the ``Accept`` type (the default ``output_fn``).

    ``text/csv`` writes one record per line (values of a 2-D row separated by
    commas); ``application/json`` writes the array as a JSON list;
    ``application/x-npy`` writes a ``.npy`` file.

    Raises
    ------
    UnsupportedContentType
        For any other ``Accept`` type.
    """
    kind = media_type(accept)
    array = np.asarray(prediction)
    if kind == "application/json":
        return json.dumps(array.tolist()).encode()
    if kind == "text/csv":
        rows = array.reshape(len(array), -1).tolist() if array.ndim else [[array.item()]]
        return "".join(",".join(map(str, row)) + "\n" for row in rows).encode()
    if kind == "application/x-npy":
        stream = io.BytesIO()
        np.save(stream, array, allow_pickle=False)
        return stream.getvalue()
    raise UnsupportedContentType(
        f"accept type {accept!r} is not supported; ask for one of {', '.join(CONTENT_TYPES)}"
    )


def default_model_fn(model_dir: str) -> Any:
    """Load ``model_dir/model.joblib``."""
    path = Path(model_dir) / MODEL_FILENAME
    if not path.is_file():
        raise FileNotFoundError(
            f"the model directory has no {MODEL_FILENAME}; save the model with joblib.dump(model, "
            f"'{MODEL_FILENAME}') or define model_fn(model_dir) in code/inference.py"
        )
    return joblib.load(path)


def default_predict_fn(input_data: Any, model: Any) -> Any:
    """Call ``model.predict(input_data)``."""
    return model.predict(input_data)


@dataclass(frozen=True)
class Handlers:
    """The handler functions of one model: user-defined where given, else the defaults."""

    model_fn: Callable[[str], Any] = default_model_fn
    input_fn: Callable[[bytes, str], Any] = decode
    predict_fn: Callable[[Any, Any], Any] = default_predict_fn
    output_fn: Callable[[Any, str], Any] = encode
    transform_fn: Callable[[Any, bytes, str, str], Any] | None = None


def load_handlers(script: str | Path | None) -> Handlers:
    """Import ``inference.py`` and return its handlers, filling in the defaults.

    Parameters
    ----------
    script : str, pathlib.Path or None
        The handler script; None (or a missing file) means all defaults.

    Raises
    ------
    ValueError
        If the script defines ``transform_fn`` together with ``input_fn``,
        ``predict_fn`` or ``output_fn``, or a handler name is not a function.

    Examples
    --------
    >>> load_handlers(None).predict_fn is default_predict_fn
    True
    """
    if script is None or not Path(script).is_file():
        return Handlers()
    path = Path(script).resolve()
    name = f"_inference_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    found = {n: getattr(module, n) for n in HANDLER_NAMES if hasattr(module, n)}
    for handler_name, function in found.items():
        if not callable(function):
            raise ValueError(
                f"{handler_name} in {path.name} must be a function, got {type(function).__name__}"
            )
    if "transform_fn" in found:
        clash = sorted(set(found) & {"input_fn", "predict_fn", "output_fn"})
        if clash:
            raise ValueError(
                f"{path.name} defines transform_fn and {', '.join(clash)}: transform_fn replaces "
                "input_fn, predict_fn and output_fn, so define either transform_fn or those three"
            )
    return Handlers(**found)


class InferenceHandler:
    """One loaded model and its handlers: what a container runs for ``POST /invocations``.

    Parameters
    ----------
    model_dir : str or pathlib.Path
        The extracted model artifact; handlers come from ``code/inference.py``
        inside it when present.

    Raises
    ------
    ValueError
        If the handler script is inconsistent (see :func:`load_handlers`).
    """

    def __init__(self, model_dir: str | Path) -> None:
        self.model_dir = Path(model_dir)
        self.handlers = load_handlers(self.model_dir / "code" / "inference.py")
        self.model = self.handlers.model_fn(str(self.model_dir))

    def invoke(self, body: bytes, content_type: str, accept: str | None = None) -> tuple[bytes, str]:
        """Run the handlers on one request; return the response body and its content type.

        Raises
        ------
        HandlerError
            With the status to answer: 400 or 415 from the default decoders and
            encoders, 500 wrapping anything else a handler raised.
        """
        accept = DEFAULT_ACCEPT if media_type(accept) in ("", "*/*") else accept
        handlers = self.handlers
        try:
            if handlers.transform_fn is not None:
                result = handlers.transform_fn(self.model, body, content_type, accept)
            else:
                data = handlers.input_fn(body, content_type)
                prediction = handlers.predict_fn(data, self.model)
                result = handlers.output_fn(prediction, accept)
        except HandlerError:
            raise
        except Exception as error:
            raise HandlerError(f"{type(error).__name__}: {error}") from error
        response_type = accept
        if isinstance(result, tuple):
            result, response_type = result
        if isinstance(result, str):
            result = result.encode()
        if not isinstance(result, bytes):
            raise HandlerError(
                f"the handler returned a {type(result).__name__}; output_fn or transform_fn must "
                "return bytes or str (or a (body, content_type) pair)"
            )
        return result, response_type
