"""Feature definitions, event times, TTL durations and record values.

SageMaker Feature Store keeps every value as text on the wire
(``ValueAsString``) and checks it against the feature's declared type:
``Integral`` (a 64-bit integer), ``Fractional`` (a 64-bit float) or
``String``. The event time feature is ``Fractional`` (Unix seconds) or
``String`` (ISO-8601 in UTC, ``yyyy-MM-dd'T'HH:mm:ssZ`` or
``yyyy-MM-dd'T'HH:mm:ss.SSSZ``).

Examples
--------
>>> parse_event_time("2024-03-01T12:00:00Z", "String")
1709294400.0
>>> parse_event_time("1709294400.5", "Fractional")
1709294400.5
>>> ttl_seconds({"Unit": "Hours", "Value": 2})
7200.0
>>> parse_value("42", "Integral", feature_name="n_orders")
42
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from course.feature_store.errors import ValidationError

__all__ = [
    "FEATURE_TYPES",
    "RESERVED_FEATURE_NAMES",
    "TTL_UNITS",
    "FeatureDefinition",
    "format_event_time",
    "load_feature_definitions",
    "parse_event_time",
    "parse_value",
    "ttl_seconds",
]

FEATURE_TYPES = ("Integral", "Fractional", "String")
"""The feature types SageMaker Feature Store accepts."""

RESERVED_FEATURE_NAMES = frozenset({"api_invocation_time", "write_time", "is_deleted"})
"""Columns the offline store adds to every record; a feature cannot use these names."""

TTL_UNITS = {"Seconds": 1.0, "Minutes": 60.0, "Hours": 3600.0, "Days": 86400.0, "Weeks": 604800.0}
"""``TtlDuration.Unit`` values and their length in seconds."""

_FEATURE_NAME = re.compile(r"[a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}")
_ISO_8601 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")
_INT64 = (-(2**63), 2**63 - 1)


@dataclass(frozen=True)
class FeatureDefinition:
    """One feature of a feature group: its name and type.

    Parameters
    ----------
    feature_name : str
        Letters, digits, ``-`` and ``_``, starting and ending with a letter or
        digit, at most 64 characters; not a reserved name.
    feature_type : str
        ``"Integral"``, ``"Fractional"`` or ``"String"``.

    Examples
    --------
    >>> FeatureDefinition("customer_id", "String").to_dict()
    {'FeatureName': 'customer_id', 'FeatureType': 'String'}
    >>> FeatureDefinition("write_time", "Fractional")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    course.feature_store.errors.ValidationError: feature name 'write_time' is reserved ...
    """

    feature_name: str
    feature_type: str

    def __post_init__(self) -> None:
        if not isinstance(self.feature_name, str) or not _FEATURE_NAME.fullmatch(self.feature_name):
            raise ValidationError(
                f"invalid feature name {self.feature_name!r}: use 1-64 letters, digits, '-' or '_', "
                "starting and ending with a letter or digit"
            )
        if self.feature_name.lower() in RESERVED_FEATURE_NAMES:
            raise ValidationError(
                f"feature name {self.feature_name!r} is reserved (the offline store adds "
                f"{', '.join(sorted(RESERVED_FEATURE_NAMES))}); rename the feature"
            )
        if self.feature_type not in FEATURE_TYPES:
            raise ValidationError(
                f"feature {self.feature_name!r} has type {self.feature_type!r}; "
                f"use one of {', '.join(FEATURE_TYPES)}"
            )

    def to_dict(self) -> dict[str, str]:
        """The definition in the API's shape (``FeatureName``, ``FeatureType``)."""
        return {"FeatureName": self.feature_name, "FeatureType": self.feature_type}

    @classmethod
    def coerce(cls, definition: FeatureDefinition | Mapping[str, str]) -> FeatureDefinition:
        """Accept a definition or the API's ``{"FeatureName", "FeatureType"}`` dict."""
        if isinstance(definition, FeatureDefinition):
            return definition
        if isinstance(definition, Mapping) and set(definition) == {"FeatureName", "FeatureType"}:
            return cls(definition["FeatureName"], definition["FeatureType"])
        raise ValidationError(
            f"a feature definition must be a FeatureDefinition or a dict with 'FeatureName' and "
            f"'FeatureType', got {definition!r}"
        )


def load_feature_definitions(data_frame: Any) -> list[FeatureDefinition]:
    """Feature definitions inferred from a DataFrame's column types, as the SDK does.

    Integer columns become ``Integral``, float columns ``Fractional``, string
    and object columns ``String``.

    Raises
    ------
    ValidationError
        If a column has another type (such as datetime or bool); convert it
        first (a datetime to Unix seconds or an ISO-8601 string).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"id": ["a"], "n": [1], "amount": [2.5]})
    >>> [d.feature_type for d in load_feature_definitions(df)]
    ['String', 'Integral', 'Fractional']
    """
    import pandas as pd

    definitions = []
    for name, dtype in data_frame.dtypes.items():
        if pd.api.types.is_bool_dtype(dtype):
            kind = None
        elif pd.api.types.is_integer_dtype(dtype):
            kind = "Integral"
        elif pd.api.types.is_float_dtype(dtype):
            kind = "Fractional"
        elif pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
            kind = "String"
        else:
            kind = None
        if kind is None:
            raise ValidationError(
                f"column {name!r} has dtype {dtype}, which has no feature type; convert it to an "
                "integer, float or string column (datetimes to Unix seconds or ISO-8601 strings)"
            )
        definitions.append(FeatureDefinition(str(name), kind))
    return definitions


def parse_event_time(value: Any, feature_type: str, *, feature_name: str = "event time") -> float:
    """Return an event time as Unix seconds (float), checking its format.

    Parameters
    ----------
    value : str or float
        ``ValueAsString`` of the event time feature, or a number for a
        ``Fractional`` event time.
    feature_type : str
        The event time feature's type: ``"Fractional"`` or ``"String"``.

    Raises
    ------
    ValidationError
        If the value is missing or not in the format of its type.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        raise ValidationError(f"the event time {feature_name!r} is missing; every record needs one")
    if feature_type == "Fractional":
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            raise ValidationError(
                f"event time {feature_name!r} = {value!r} is not a number; the event time feature is "
                "Fractional, so give Unix seconds such as 1709294400.5"
            ) from None
        if not math.isfinite(seconds):
            raise ValidationError(f"event time {feature_name!r} = {value!r} is not a finite number")
        return seconds
    if not isinstance(value, str) or not _ISO_8601.fullmatch(value):
        raise ValidationError(
            f"event time {feature_name!r} = {value!r} is not ISO-8601 in UTC; the event time feature "
            "is String, so write it as 2024-03-01T12:00:00Z or 2024-03-01T12:00:00.250Z"
        )
    return datetime.strptime(value.replace("Z", "+0000"), _iso_format(value)).timestamp()


def _iso_format(value: str) -> str:
    return "%Y-%m-%dT%H:%M:%S.%f%z" if "." in value else "%Y-%m-%dT%H:%M:%S%z"


def format_event_time(seconds: float, feature_type: str) -> str:
    """The ``ValueAsString`` of an event time given in Unix seconds.

    >>> format_event_time(1709294400.25, "String")
    '2024-03-01T12:00:00.250Z'
    >>> format_event_time(1709294400.0, "Fractional")
    '1709294400.0'
    """
    if feature_type == "Fractional":
        return repr(float(seconds))
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_value(value: str, feature_type: str, *, feature_name: str) -> int | float | str:
    """Convert a ``ValueAsString`` to the Python value of its feature type.

    Raises
    ------
    ValidationError
        If the text is not a value of that type (an ``Integral`` must be a
        64-bit integer written without a decimal point).
    """
    if not isinstance(value, str):
        raise ValidationError(
            f"feature {feature_name!r}: ValueAsString must be a str, got {type(value).__name__}"
        )
    if feature_type == "String":
        return value
    if feature_type == "Integral":
        try:
            number = int(value)
        except ValueError:
            raise ValidationError(
                f"feature {feature_name!r} is Integral but got {value!r}; give a whole number such as '3'"
            ) from None
        if not _INT64[0] <= number <= _INT64[1]:
            raise ValidationError(f"feature {feature_name!r} = {value!r} does not fit in 64 bits")
        return number
    try:
        return float(value)
    except ValueError:
        raise ValidationError(
            f"feature {feature_name!r} is Fractional but got {value!r}; give a number such as '2.5'"
        ) from None


def ttl_seconds(ttl_duration: Mapping[str, Any] | None) -> float | None:
    """Length in seconds of a ``TtlDuration`` (``{"Unit": ..., "Value": ...}``), or None.

    Raises
    ------
    ValidationError
        If the unit is not Seconds, Minutes, Hours, Days or Weeks, or the
        value is not an integer of at least 1.
    """
    if ttl_duration is None:
        return None
    if not isinstance(ttl_duration, Mapping) or set(ttl_duration) != {"Unit", "Value"}:
        raise ValidationError(
            f"TtlDuration must be a dict with 'Unit' and 'Value', such as "
            f"{{'Unit': 'Days', 'Value': 30}}, got {ttl_duration!r}"
        )
    unit, value = ttl_duration["Unit"], ttl_duration["Value"]
    if unit not in TTL_UNITS:
        raise ValidationError(f"TtlDuration Unit {unit!r} is not one of {', '.join(TTL_UNITS)}")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"TtlDuration Value must be an integer >= 1, got {value!r}")
    return TTL_UNITS[unit] * value


def check_definitions(
    definitions: Sequence[FeatureDefinition], record_identifier_name: str, event_time_feature_name: str
) -> None:
    """Check a feature group's definitions: unique names, identifier and event time present and typed."""
    names = [d.feature_name for d in definitions]
    if not names:
        raise ValidationError("a feature group needs at least its record identifier and event time features")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValidationError(f"feature names must be unique; repeated: {', '.join(duplicates)}")
    types = dict(zip(names, (d.feature_type for d in definitions), strict=True))
    for role, name, allowed in (
        ("record identifier", record_identifier_name, ("Integral", "String")),
        ("event time", event_time_feature_name, ("Fractional", "String")),
    ):
        if name not in types:
            raise ValidationError(
                f"the {role} feature {name!r} is not among the feature definitions ({', '.join(names)}); "
                "add its definition"
            )
        if types[name] not in allowed:
            raise ValidationError(
                f"the {role} feature {name!r} has type {types[name]}; it must be {' or '.join(allowed)}"
            )
