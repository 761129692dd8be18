"""The data-only channel between test cells and student code.

Test cells run on the trusted side; student code runs in the sandbox. Between
them only plain data crosses, in a tagged format that the receiving side
rebuilds itself from exact built-in, NumPy and pandas types, never pickle:

- ``None``, ``bool``, ``int``, ``float`` (NaN, infinities and -0.0 exactly),
  ``str``, ``bytes``, and ``list``, ``tuple`` and ``dict`` of them;
- NumPy arrays and scalars of bool and numeric dtypes (raw bytes, dtype, shape);
- pandas ``DataFrame`` and ``Series`` (Arrow IPC; only primitive column types).

Anything else, subclasses included, is refused with an error naming the type,
so an object that lies about its value (an ``__eq__`` that always returns True,
a ``float`` subclass) cannot pass.

A message is one frame: an 8-byte big-endian length and a JSON header, then
each binary buffer the header lists, each with its own length prefix.

>>> header, buffers = encode({"x": [1, 2.5, None], (1, "a"): np.arange(3)})
>>> value = decode(header, buffers)
>>> value["x"], type(value[(1, "a")]).__name__, value[(1, "a")].tolist()
([1, 2.5, None], 'ndarray', [0, 1, 2])
>>> class Liar(float):
...     def __eq__(self, other):
...         return True
>>> encode(Liar(1.0))
Traceback (most recent call last):
...
autograder.channel.NotData: a Liar cannot cross to the tests: use plain data (None, bool, int, float, str, bytes, list, tuple, dict, NumPy arrays of numbers or bools, pandas DataFrames and Series)
"""

from __future__ import annotations

import io
import json
import math
import os
import select
import struct
import sys
import time
from typing import Any, BinaryIO

import numpy as np

#: The largest frame either side accepts (a larger one is a protocol violation).
MAX_FRAME_BYTES = 256 * 1024 * 1024
#: Nesting deeper than this is refused (it protects the decoder's stack).
MAX_DEPTH = 64
#: Array dtype kinds that cross: bool, signed and unsigned integers, floats, complex.
ARRAY_KINDS = "biufc"
ALLOWED = (
    "None, bool, int, float, str, bytes, list, tuple, dict, NumPy arrays of numbers or bools, "
    "pandas DataFrames and Series"
)

_LENGTH = struct.Struct(">Q")


class NotData(TypeError):
    """A value that cannot cross the channel."""


class ChannelClosed(EOFError):
    """The other side closed the channel (or died)."""


class ChannelTimeout(TimeoutError):
    """The other side did not answer in time."""


def _refuse(value: Any) -> NotData:
    return NotData(f"a {type(value).__name__} cannot cross to the tests: use plain data ({ALLOWED})")


def encode(value: Any) -> tuple[Any, list[bytes]]:
    """The JSON-able header and binary buffers for ``value``; :class:`NotData` if it is not data."""
    buffers: list[bytes] = []
    return _encode(value, buffers, 0), buffers


def _encode(value: Any, buffers: list[bytes], depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise NotData(f"data nested more than {MAX_DEPTH} levels deep cannot cross to the tests")
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        return {"int": str(value)}
    if kind is float:
        return {"float": value.hex()}
    if kind is bytes:
        buffers.append(value)
        return {"bytes": len(buffers) - 1}
    if kind is list or kind is tuple:
        return {kind.__name__: [_encode(v, buffers, depth + 1) for v in value]}
    if kind is dict:
        return {
            "dict": [
                [_encode(k, buffers, depth + 1), _encode(v, buffers, depth + 1)] for k, v in value.items()
            ]
        }
    if kind is np.ndarray:
        if value.dtype.kind not in ARRAY_KINDS:
            raise NotData(
                f"a NumPy array of dtype {value.dtype} cannot cross to the tests: "
                "only arrays of numbers or bools can"
            )
        buffers.append(np.ascontiguousarray(value).tobytes())
        return {"ndarray": len(buffers) - 1, "dtype": value.dtype.str, "shape": list(value.shape)}
    if isinstance(value, np.generic):
        try:
            dtype = np.dtype(kind)
        except TypeError:
            raise _refuse(value) from None
        if kind is dtype.type and dtype.kind in ARRAY_KINDS:
            buffers.append(np.asarray(value).tobytes())
            return {"scalar": len(buffers) - 1, "dtype": dtype.str}
    frame = _pandas_header(value, buffers, depth)
    if frame is not None:
        return frame
    raise _refuse(value)


def _pandas_header(value: Any, buffers: list[bytes], depth: int) -> dict | None:
    pd = sys.modules.get("pandas")  # pandas objects exist only if pandas was imported
    if pd is None or type(value) not in (pd.DataFrame, pd.Series):
        return None
    import pyarrow as pa

    if type(value) is pd.Series:
        name = _encode(value.name, buffers, depth + 1)
        frame = value.to_frame(name="series")
    else:
        name, frame = None, value
    try:
        table = pa.Table.from_pandas(frame, preserve_index=True)
    except (pa.ArrowException, TypeError, ValueError) as error:
        raise NotData(f"this {type(value).__name__} cannot cross to the tests: {error}") from None
    _check_schema(table.schema)
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    buffers.append(sink.getvalue())
    if type(value) is pd.Series:
        return {"series": len(buffers) - 1, "name": name}
    return {"dataframe": len(buffers) - 1}


def _check_schema(schema: Any) -> None:
    """Only primitive Arrow columns: numbers, bools, strings, nulls, dates and times."""
    import pyarrow as pa
    import pyarrow.types as t

    for field in schema:
        kind = field.type
        if isinstance(kind, pa.ExtensionType) or (
            field.metadata and b"ARROW:extension:name" in field.metadata
        ):
            raise NotData(f"column {field.name!r} has an extension type, which cannot cross to the tests")
        primitive = (
            t.is_boolean(kind)
            or t.is_integer(kind)
            or t.is_floating(kind)
            or t.is_string(kind)
            or t.is_large_string(kind)
            or t.is_null(kind)
            or t.is_timestamp(kind)
            or t.is_date(kind)
            or t.is_duration(kind)
        )
        if not primitive:
            raise NotData(
                f"column {field.name!r} of type {kind} cannot cross to the tests: "
                "use numbers, bools, strings or timestamps"
            )


def decode(header: Any, buffers: list[bytes]) -> Any:
    """Rebuild a value from :func:`encode`'s output; ``ValueError`` if it is malformed."""
    return _decode(header, buffers, 0)


def _buffer(buffers: list[bytes], index: Any) -> bytes:
    if type(index) is not int or not 0 <= index < len(buffers):
        raise ValueError(f"malformed data: no buffer {index!r}")
    return buffers[index]


def _dtype(text: Any) -> np.dtype:
    if type(text) is not str or len(text) > 8:
        raise ValueError("malformed data: bad dtype")
    dtype = np.dtype(text)
    if dtype.kind not in ARRAY_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise ValueError(f"malformed data: dtype {text} is not allowed")
    return dtype


def _decode(header: Any, buffers: list[bytes], depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ValueError("malformed data: nested too deep")
    if header is None or type(header) is bool or type(header) is str:
        return header
    if type(header) is not dict or len(header) not in (1, 2, 3):
        raise ValueError(f"malformed data: {type(header).__name__}")
    tag = next(iter(header))
    body = header[tag]
    if tag == "int" and type(body) is str and len(body) <= 5000:
        return int(body)
    if tag == "float" and type(body) is str:
        return float.fromhex(body)
    if tag == "bytes":
        return bytes(_buffer(buffers, body))
    if tag in ("list", "tuple") and type(body) is list:
        items = [_decode(v, buffers, depth + 1) for v in body]
        return items if tag == "list" else tuple(items)
    if tag == "dict" and type(body) is list:
        out = {}
        for pair in body:
            if type(pair) is not list or len(pair) != 2:
                raise ValueError("malformed data: bad dict item")
            key = _decode(pair[0], buffers, depth + 1)
            try:
                out[key] = _decode(pair[1], buffers, depth + 1)
            except TypeError:
                raise ValueError(f"malformed data: unhashable dict key {type(key).__name__}") from None
        return out
    if tag == "ndarray":
        dtype, shape = _dtype(header.get("dtype")), header.get("shape")
        if type(shape) is not list or len(shape) > 32 or any(type(n) is not int or n < 0 for n in shape):
            raise ValueError("malformed data: bad array shape")
        data = _buffer(buffers, body)
        if len(data) != dtype.itemsize * math.prod(shape):
            raise ValueError("malformed data: array size does not match its shape")
        return np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    if tag == "scalar":
        dtype, data = _dtype(header.get("dtype")), _buffer(buffers, body)
        if len(data) != dtype.itemsize:
            raise ValueError("malformed data: bad scalar")
        return np.frombuffer(data, dtype=dtype)[0].copy()
    if tag in ("dataframe", "series"):
        return _decode_frame(tag, header, buffers, depth)
    raise ValueError(f"malformed data: unknown tag {tag!r}")


def _decode_frame(tag: str, header: dict, buffers: list[bytes], depth: int) -> Any:
    import pandas as pd
    import pyarrow as pa

    try:
        table = pa.ipc.open_stream(_buffer(buffers, header[tag])).read_all()
        table.validate(full=True)
    except pa.ArrowException as error:
        raise ValueError(f"malformed data: {error}") from None
    try:
        _check_schema(table.schema)
    except NotData as error:
        raise ValueError(f"malformed data: {error}") from None
    frame = table.to_pandas()
    if type(frame) is not pd.DataFrame:
        raise ValueError("malformed data: not a DataFrame")
    if tag == "dataframe":
        return frame
    if list(frame.columns) != ["series"]:
        raise ValueError("malformed data: a Series has one column")
    series = frame["series"]
    series.name = _decode(header.get("name"), buffers, depth + 1)
    return series


# Framing ---------------------------------------------------------------------------------------


def send(stream: BinaryIO, message: dict, buffers: list[bytes] = ()) -> None:
    """Write one frame: the JSON ``message`` and its binary ``buffers``."""
    head = json.dumps({**message, "nbuffers": len(buffers)}, allow_nan=False).encode()
    parts = [_LENGTH.pack(len(head)), head]
    for buffer in buffers:
        parts += [_LENGTH.pack(len(buffer)), buffer]
    stream.write(b"".join(parts))
    stream.flush()


class Reader:
    """Reads frames from a file descriptor, with an optional deadline per frame."""

    def __init__(self, fd: int, *, max_bytes: int = MAX_FRAME_BYTES) -> None:
        self.fd = fd
        self.max_bytes = max_bytes

    def _read(self, n: int, deadline: float | None) -> bytes:
        chunks, left = [], n
        while left:
            if deadline is not None:
                wait = deadline - time.monotonic()
                if wait <= 0 or not select.select([self.fd], [], [], wait)[0]:
                    raise ChannelTimeout("no answer in time")
            chunk = os.read(self.fd, min(left, 1 << 20))
            if not chunk:
                raise ChannelClosed("the other side closed the channel")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _length(self, deadline: float | None, total: int) -> int:
        (n,) = _LENGTH.unpack(self._read(_LENGTH.size, deadline))
        if n + total > self.max_bytes:
            raise ValueError(f"a message of more than {self.max_bytes} bytes was refused")
        return n

    def recv(self, deadline: float | None = None) -> tuple[dict, list[bytes]]:
        """One frame: (message, buffers). ``ValueError`` if it is malformed."""
        total = 0
        n = self._length(deadline, total)
        total += n
        try:
            message = json.loads(self._read(n, deadline))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ValueError("malformed message: not JSON") from None
        except RecursionError:  # JSON nested deeper than the decoder's stack
            raise ValueError("malformed message: nested too deep") from None
        except MemoryError:  # e.g. millions of tiny items, over the reader's memory limit
            raise ValueError("malformed message: too large to decode") from None
        if type(message) is not dict or type(message.get("nbuffers")) is not int:
            raise ValueError("malformed message")
        buffers = []
        for _ in range(message.pop("nbuffers")):
            n = self._length(deadline, total)
            total += n
            buffers.append(self._read(n, deadline))
        return message, buffers
