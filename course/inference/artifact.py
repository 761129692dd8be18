"""Model artifacts: the ``model.tar.gz`` that SageMaker hosting downloads.

The archive holds the model file at its top level and, optionally, the
handler script as ``code/inference.py`` (with its helpers under ``code/``).
SageMaker extracts it into ``/opt/ml/model`` before the container starts; the
local endpoints extract it into a private temporary folder.

Examples
--------
>>> import tempfile
>>> from sklearn.linear_model import LogisticRegression
>>> from course.storage import LocalS3
>>> s3 = LocalS3(tempfile.mkdtemp())
>>> model = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
>>> uri = create_model_artifact(model, "s3://my-bucket/models/model.tar.gz", s3=s3)
>>> sorted(artifact_members(uri, s3=s3))
['model.joblib']
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import joblib

from course.inference.handlers import MODEL_FILENAME
from course.storage import LocalS3

__all__ = ["artifact_members", "create_model_artifact", "extract_model_artifact"]


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(data))


def create_model_artifact(
    model: Any,
    uri: str,
    *,
    inference_script: str | None = None,
    extra_files: dict[str, bytes | str] | None = None,
    s3: LocalS3 | None = None,
) -> str:
    """Write ``model.tar.gz`` with the model (``model.joblib``) and its handler script.

    Parameters
    ----------
    model : object
        Anything ``joblib`` can save, usually a fitted scikit-learn estimator.
    uri : str
        ``s3://bucket/key`` to write the archive to; the key should end in ``.tar.gz``.
    inference_script : str, optional
        Source of ``code/inference.py``; without it the default handlers serve the model.
    extra_files : dict, optional
        More archive members, ``{relative path: content}`` (for example
        ``{"code/helpers.py": "..."}``).
    s3 : LocalS3, optional
        The object store; the default store when omitted.

    Returns
    -------
    str
        ``uri``, to pass as ``Model(model_data=...)``.
    """
    if not uri.endswith(".tar.gz"):
        raise ValueError(f"a model artifact is a .tar.gz archive; end the key of {uri!r} with 'model.tar.gz'")
    model_bytes = io.BytesIO()
    joblib.dump(model, model_bytes)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        _add_bytes(archive, MODEL_FILENAME, model_bytes.getvalue())
        if inference_script is not None:
            _add_bytes(archive, "code/inference.py", inference_script.encode())
        for name, content in (extra_files or {}).items():
            _add_bytes(archive, name, content.encode() if isinstance(content, str) else content)
    (s3 or LocalS3()).put_object(uri, buffer.getvalue())
    return uri


def artifact_members(uri: str, *, s3: LocalS3 | None = None) -> list[str]:
    """Return the names of the files in the archive at ``uri``."""
    data = (s3 or LocalS3()).get_object(uri)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        return [member.name for member in archive.getmembers() if member.isfile()]


def extract_model_artifact(uri: str, destination: str | Path, *, s3: LocalS3 | None = None) -> Path:
    """Extract the archive at ``uri`` into the folder ``destination``, as SageMaker does into /opt/ml/model.

    Raises
    ------
    course.storage.NoSuchKey
        If there is no object at ``uri``.
    ValueError
        If the object is not a gzipped tar archive, or a member would land
        outside ``destination``.
    """
    data = (s3 or LocalS3()).get_object(uri)
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            archive.extractall(destination, filter="data")
    except tarfile.TarError as error:
        raise ValueError(
            f"{uri!r} is not a model.tar.gz archive ({error}); create it with create_model_artifact"
        ) from None
    return destination
