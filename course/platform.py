"""The map of SageMaker: service names and the documented inference limits.

Assignment 00 asks students to pick a SageMaker service for a scenario and to
write the rule that picks an inference option. This module holds the shared
vocabulary only: the catalog of service names an answer must come from, the
four inference options, the traffic patterns, and the limits the SageMaker
Developer Guide documents. It deliberately holds neither the answers to the
scenarios nor the decision rule itself.

Sources (SageMaker Developer Guide page names, docs.aws.amazon.com/sagemaker/latest/dg/):

- "Model deployment options in Amazon SageMaker AI" (how-it-works-deployment):
  which option suits which workload.
- "Real-time inference" (realtime-endpoints) and the InvokeEndpoint API
  reference: request and response payloads up to 6 MB; the container must
  answer within 60 seconds.
- "Deploy models with Amazon SageMaker Serverless Inference"
  (serverless-endpoints) and "Invoke a serverless endpoint"
  (serverless-endpoints-invoke): payload up to 4 MB, 60 seconds, scales to zero,
  cold starts.
- "Asynchronous inference" (async-inference) and "Invoke an Asynchronous
  Endpoint" (async-inference-invoke-endpoint): payloads up to 1 GB, processing
  up to one hour (InvocationTimeoutSeconds, default 900, max 3600); requests are
  queued and results written to S3.
- "Batch transform for inference with Amazon SageMaker AI" (batch-transform):
  predictions for a whole dataset, no persistent endpoint.

Sizes are in MB as the guide writes them (6 MB is 6,291,456 bytes, so
1 GB = 1024 MB).

Where it simplifies: it is a catalog, not a service. The guide's advice on
choosing an option weighs cost, GPUs, concurrency and features too; the
notebook's decision rule uses payload size, processing time and traffic
pattern only, and says so. ``docs/SAGEMAKER.md`` gathers every stage's notes.

Examples
--------
>>> REALTIME_MAX_PAYLOAD_MB, REALTIME_MAX_SECONDS
(6, 60)
>>> SERVERLESS_MAX_PAYLOAD_MB, SERVERLESS_MAX_SECONDS
(4, 60)
>>> ASYNC_MAX_PAYLOAD_MB, ASYNC_MAX_SECONDS
(1024, 3600)
>>> INFERENCE_OPTIONS
('real-time', 'serverless', 'asynchronous', 'batch transform')
>>> TRAFFIC_PATTERNS
('steady', 'intermittent', 'offline')
>>> "Serverless Inference" in SERVICES, "serverless" in SERVICES
(True, False)
"""

from __future__ import annotations

__all__ = [
    "ASYNC_MAX_PAYLOAD_MB",
    "ASYNC_MAX_SECONDS",
    "INFERENCE_OPTIONS",
    "REALTIME_MAX_PAYLOAD_MB",
    "REALTIME_MAX_SECONDS",
    "SERVERLESS_MAX_PAYLOAD_MB",
    "SERVERLESS_MAX_SECONDS",
    "SERVICES",
    "TRAFFIC_PATTERNS",
]

# The catalog a scenario answer must be chosen from, spelled exactly like this,
# in lifecycle order: data, build and train, automate, deploy, operate, generative AI.
SERVICES: tuple[str, ...] = (
    "Ground Truth",
    "Data Wrangler",
    "Feature Store",
    "Training Jobs",
    "Managed Spot Training",
    "JumpStart",
    "Canvas",
    "Autopilot",
    "Pipelines",
    "Model Registry",
    "Real-Time Inference",
    "Serverless Inference",
    "Asynchronous Inference",
    "Batch Transform",
    "Multi-Model Endpoints",
    "Shadow Testing",
    "Inference Recommender",
    "Model Monitor",
    "Clarify",
    "Augmented AI",
    "Bedrock",
)

# The values choose_inference_option returns.
INFERENCE_OPTIONS: tuple[str, ...] = ("real-time", "serverless", "asynchronous", "batch transform")

# How requests arrive: all day long, in bursts with idle periods, or as a whole
# dataset that nobody waits on.
TRAFFIC_PATTERNS: tuple[str, ...] = ("steady", "intermittent", "offline")

# Real-time inference: InvokeEndpoint payload limit and container response time.
REALTIME_MAX_PAYLOAD_MB = 6
REALTIME_MAX_SECONDS = 60

# Serverless Inference: payload limit and per-invocation timeout.
SERVERLESS_MAX_PAYLOAD_MB = 4
SERVERLESS_MAX_SECONDS = 60

# Asynchronous Inference: payload up to 1 GB, InvocationTimeoutSeconds up to 3600.
ASYNC_MAX_PAYLOAD_MB = 1024
ASYNC_MAX_SECONDS = 3600
