"""Benchmark of assignment 04's inference package (a script, not a test).

Prints three comparisons, each against a baseline measured in the same run:

1. Real-time: latency of a single-row invocation of a scikit-learn model on
   localhost, over raw HTTP (a kept-alive connection, to the container's
   ``/invocations`` and to the runtime API's ``/endpoints/{name}/invocations``)
   and through boto3's ``invoke_endpoint``, against in-process ``predict`` on
   the same row. Goals: p50 under 2 ms and p99 under 10 ms over raw HTTP.
2. Batch transform: rows per second of a transform job (MultiRecord,
   ``MaxPayloadInMB`` 6, CSV lines) against plain ``predict`` on the same rows
   already in memory. Goal: at least 70% of plain ``predict``. Printed with and
   without the container's start-up.
3. Asynchronous: N requests with a worker killed (SIGKILL) in the middle;
   every request must be answered exactly once (one output, one success
   notification, the right prediction).

Run:  python benchmarks/inference.py [--quick]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import tempfile
import time

import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from course.inference import AsyncInferenceConfig, Model, create_model_artifact
from course.inference.batch import Transformer
from course.storage import LocalS3


def _percentiles(seconds: list[float]) -> tuple[float, float]:
    ms = np.array(seconds) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def realtime(s3: LocalS3, n_requests: int) -> None:
    X, y = make_classification(n_samples=2000, n_features=10, random_state=0)
    model = LogisticRegression(max_iter=1000).fit(X, y)
    uri = create_model_artifact(model, "s3://bench/realtime/model.tar.gz", s3=s3)
    row = X[:1]
    body = ",".join(map(repr, row[0].tolist())).encode()
    timings: dict[str, list[float]] = {"in-process predict": []}
    for _ in range(n_requests):
        start = time.perf_counter()
        model.predict(row)
        timings["in-process predict"].append(time.perf_counter() - start)
    with Model(uri, s3=s3).deploy(endpoint_name="bench-realtime") as endpoint:
        headers = {"Content-Type": "text/csv", "Accept": "text/csv"}
        for label, path in [("raw HTTP /invocations", "/invocations"),
                            ("raw HTTP runtime API", "/endpoints/bench-realtime/invocations")]:  # fmt: skip
            connection = http.client.HTTPConnection("127.0.0.1", endpoint.port)
            timings[label] = []
            for i in range(n_requests + 50):
                start = time.perf_counter()
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                answer = response.read()
                if i >= 50:  # the first requests warm up the connection and the model
                    timings[label].append(time.perf_counter() - start)
            assert response.status == 200 and answer.strip() == str(model.predict(row)[0]).encode()
            connection.close()
        client = endpoint.runtime_client()
        timings["boto3 invoke_endpoint"] = []
        for i in range(n_requests + 50):
            start = time.perf_counter()
            client.invoke_endpoint(EndpointName="bench-realtime", Body=body, ContentType="text/csv")[
                "Body"
            ].read()
            if i >= 50:
                timings["boto3 invoke_endpoint"].append(time.perf_counter() - start)
    base50, base99 = _percentiles(timings["in-process predict"])
    print(
        f"\n== Real-time: one-row invocation, logistic regression (10 features), {n_requests} requests each"
    )
    print(f"   {'path':<28}{'p50 ms':>9}{'p99 ms':>9}{'p50 / predict':>15}")
    for label, values in timings.items():
        p50, p99 = _percentiles(values)
        print(f"   {label:<28}{p50:>9.3f}{p99:>9.3f}{p50 / base50:>14.1f}x")
    p50, p99 = _percentiles(timings["raw HTTP /invocations"])
    print(f"   goal raw HTTP p50 < 2 ms: {'met' if p50 < 2 else 'NOT met'} ({p50:.3f}); "
          f"p99 < 10 ms: {'met' if p99 < 10 else 'NOT met'} ({p99:.3f})")  # fmt: skip


def batch(s3: LocalS3, n_rows: int, n_files: int, repeats: int) -> None:
    X, y = make_classification(n_samples=n_rows, n_features=20, random_state=0)
    model = RandomForestClassifier(n_estimators=100, max_depth=12, random_state=0).fit(X[:5000], y[:5000])
    uri = create_model_artifact(model, "s3://bench/batch/model.tar.gz", s3=s3)
    for i, part in enumerate(np.array_split(X, n_files)):
        s3.put_object(
            f"s3://bench/batch-in/part-{i}.csv", "\n".join(",".join(map(repr, r)) for r in part.tolist())
        )
    baseline, job_times, steady_times = [], [], []
    for _ in range(repeats):
        start = time.perf_counter()
        expected = model.predict(X)
        baseline.append(time.perf_counter() - start)
        job = Transformer(Model(uri, s3=s3), output_path="s3://bench/batch-out", assemble_with="Line",
                          accept="text/csv", max_payload=6, max_concurrent_transforms=2).transform("s3://bench/batch-in/", split_type="Line")  # fmt: skip
        assert job.status == "Completed", job.failure_reason
        job_times.append(job.seconds)
        steady_times.append(job.seconds - job.startup_seconds)
    got = np.concatenate([np.loadtxt(s3.get_object(f"s3://bench/batch-out/part-{i}.csv.out").decode().splitlines())
                          for i in range(n_files)])  # fmt: skip
    assert np.array_equal(got, expected), "batch transform answers differ from predict"
    rate = n_rows / statistics.median(baseline)
    rate_job = n_rows / statistics.median(job_times)
    rate_steady = n_rows / statistics.median(steady_times)
    print(f"\n== Batch transform: random forest (100 trees), {n_rows} rows x 20 features in {n_files} CSV files, "
          f"median of {repeats}")  # fmt: skip
    print(f"   plain predict (in memory)        {rate:>12,.0f} rows/s")
    print(
        f"   transform, without start-up      {rate_steady:>12,.0f} rows/s  ({rate_steady / rate:.0%} of predict)"
    )
    print(
        f"   transform, with container start  {rate_job:>12,.0f} rows/s  ({rate_job / rate:.0%} of predict)"
    )
    print(
        f"   goal >= 70% of predict (without start-up): {'met' if rate_steady >= 0.7 * rate else 'NOT met'}"
    )


def asynchronous(s3: LocalS3, n_requests: int) -> None:
    X, y = make_classification(n_samples=n_requests, n_features=5, random_state=0)
    model = LogisticRegression().fit(X, y)
    uri = create_model_artifact(model, "s3://bench/async/model.tar.gz", s3=s3)
    config = AsyncInferenceConfig(output_path="s3://bench/async-out", max_concurrent_invocations_per_instance=2,
                                  notification_config={"SuccessTopic": "s3://bench/async-topic/success",
                                                       "ErrorTopic": "s3://bench/async-topic/error"})  # fmt: skip
    start = time.perf_counter()
    with Model(uri, s3=s3).deploy(endpoint_name="bench-async", async_inference_config=config) as endpoint:
        client = endpoint.runtime_client()
        outputs = {}
        killed = None
        for i in range(n_requests):
            s3.put_object(f"s3://bench/async-in/{i}.csv", ",".join(map(repr, X[i].tolist())))
            response = client.invoke_endpoint_async(EndpointName="bench-async", InputLocation=f"s3://bench/async-in/{i}.csv",
                                                    ContentType="text/csv", Accept="text/csv", InferenceId=str(i))  # fmt: skip
            outputs[i] = response["OutputLocation"]
            if killed is None and i >= n_requests // 2:
                busy = endpoint.stats()["async"]["busy_workers"]  # a worker holding a request
                if busy:
                    killed = busy[0]
                    os.kill(killed, signal.SIGKILL)
        while True:
            stats = endpoint.stats()["async"]
            if stats["done"] + stats["failed"] == n_requests and stats["notifications"] == n_requests:
                break
            time.sleep(0.1)
    seconds = time.perf_counter() - start
    answered = {i: s3.get_object(uri).decode().strip() for i, uri in outputs.items() if s3.exists(uri)}
    right = sum(answered[i] == str(c) for i, c in enumerate(model.predict(X)) if i in answered)
    notes = [
        json.loads(s3.get_object(u))["inferenceId"]
        for u in s3.list_objects("s3://bench/async-topic/success/")
    ]
    print(f"\n== Asynchronous: {n_requests} requests, worker {killed} killed half-way (SIGKILL), 2 workers")
    print(f"   done {stats['done']}, failed {stats['failed']}, requeued after the kill {stats['retried']}, "
          f"worker restarts {stats['restarts']}")  # fmt: skip
    print(f"   outputs {len(answered)} of {n_requests} (right predictions: {right}); success notifications "
          f"{len(notes)}, distinct {len(set(notes))}")  # fmt: skip
    lost, twice = n_requests - len(set(notes)), len(notes) - len(set(notes))
    print(f"   lost {lost}, answered twice {twice}: {'met' if lost == 0 and twice == 0 and right == n_requests else 'NOT met'}; "
          f"turnaround {seconds:.1f} s for all, {n_requests / seconds:.0f} requests/s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        s3 = LocalS3(root)
        realtime(s3, 300 if args.quick else 2000)
        batch(s3, 20_000 if args.quick else 200_000, 8, 1 if args.quick else 3)
        asynchronous(s3, 100 if args.quick else 1000)


if __name__ == "__main__":
    main()
