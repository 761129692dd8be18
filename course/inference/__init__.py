"""SageMaker hosting, locally: endpoints, variants, data capture, batch transform.

- ``handlers``: the ``inference.py`` contract (``model_fn``, ``input_fn``,
  ``predict_fn``, ``output_fn`` or ``transform_fn``) and its defaults.
- ``artifact``: ``model.tar.gz`` archives in the local S3 store.
- ``endpoint``: real-time, serverless, asynchronous and multi-model
  endpoints, each a uvicorn server process speaking the container contract
  and the ``sagemaker-runtime`` API (boto3 works against it).
- ``capture``: data capture records in SageMaker's JSON Lines format.
- ``multimodel``: the model cache of a multi-model endpoint.
- ``batch``: batch transform jobs over S3 prefixes.

Used by assignment 04 (``source/04_inference``).
"""

from course.inference.artifact import artifact_members, create_model_artifact, extract_model_artifact
from course.inference.capture import DataCaptureConfig, read_capture
from course.inference.endpoint import (
    AsyncInferenceConfig,
    Endpoint,
    Model,
    MultiDataModel,
    ProductionVariant,
    ServerlessInferenceConfig,
    runtime_client,
)
from course.inference.handlers import (
    HandlerError,
    InferenceHandler,
    InvalidInput,
    UnsupportedContentType,
    load_handlers,
)
from course.inference.multimodel import ModelCache

__all__ = [
    "AsyncInferenceConfig",
    "DataCaptureConfig",
    "Endpoint",
    "HandlerError",
    "InferenceHandler",
    "InvalidInput",
    "Model",
    "ModelCache",
    "MultiDataModel",
    "ProductionVariant",
    "ServerlessInferenceConfig",
    "UnsupportedContentType",
    "artifact_members",
    "create_model_artifact",
    "extract_model_artifact",
    "load_handlers",
    "read_capture",
    "runtime_client",
]
