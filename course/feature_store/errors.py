"""The errors of the local Feature Store, named after the runtime API's error codes.

Each one is also a built-in exception (``ValueError`` or ``KeyError``), so
``except ValueError`` works as usual; the local HTTP server turns them into
the API's error responses (HTTP 400 ``ValidationError``, 404
``ResourceNotFound``), which boto3 raises as ``ClientError``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["IngestionError", "OfflineStoreError", "ResourceNotFound", "ValidationError"]


class ValidationError(ValueError):
    """A request the API would refuse with ``ValidationError`` (HTTP 400)."""

    code = "ValidationError"
    status = 400


class ResourceNotFound(KeyError):
    """An unknown feature group, like the API's ``ResourceNotFound`` (HTTP 404).

    Its message is shown as is (a plain ``KeyError`` would put it in quotes).
    """

    code = "ResourceNotFound"
    status = 404

    def __str__(self) -> str:
        return str(self.args[0])


class IngestionError(ValueError):
    """Rows of an ``ingest`` call were refused; nothing was written.

    Attributes
    ----------
    failed_rows : pandas.DataFrame
        One row per refused input row: ``row`` (the position in the input
        DataFrame) and ``reason``.
    """

    def __init__(self, message: str, failed_rows: pd.DataFrame) -> None:
        super().__init__(message)
        self.failed_rows = failed_rows


class OfflineStoreError(RuntimeError):
    """The offline store cannot be read, such as a file that is not valid Parquet."""
