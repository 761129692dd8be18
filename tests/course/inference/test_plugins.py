"""The service runs the student's routing, packing and eviction functions, and asks for them when absent.

The student edition has no ``course/inference/_reference.py`` and the grading
sandbox shows it empty; the subprocess tests recreate both and check that
every service needing an exercise's logic refuses with a message naming the
notebook Part, while the parts that need none still work.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from botocore.exceptions import ClientError

from course.inference import (
    Endpoint,
    Model,
    ModelCache,
    MultiDataModel,
    ProductionVariant,
    create_model_artifact,
)
from course.inference.batch import Transformer

from .test_batch import _csv_lines

STUDENT_EDITION = textwrap.dedent(
    """
    import importlib, sys, tempfile, types
    sys.modules["course.inference._reference"] = None  # the student edition: no such module
    from sklearn.dummy import DummyClassifier
    from course.inference import Endpoint, Model, ModelCache, MultiDataModel, ProductionVariant, create_model_artifact
    from course.inference.batch import Transformer
    from course.storage import LocalS3

    s3 = LocalS3(tempfile.mkdtemp())
    uri = create_model_artifact(DummyClassifier().fit([[0]], [1]), "s3://mod/a/model.tar.gz", s3=s3)
    s3.put_object("s3://inp/x.csv", "0\\n1\\n")
    attempts = {
        "Part A": lambda: Endpoint("e", [ProductionVariant(Model(uri, s3=s3), variant_name=n) for n in "AB"], s3=s3),
        "Part B": lambda: Transformer(Model(uri, s3=s3), output_path="s3://outp").transform(
            "s3://inp/", split_type="Line"),
        "Part D": lambda: MultiDataModel("mme", "s3://mod/", s3=s3).deploy(),
        "Part D (cache)": lambda: ModelCache("s3://mod/", s3=s3, memory_limit_bytes=10, work_dir=tempfile.mkdtemp()),
    }
    for edition in ("absent", "empty"):
        if edition == "empty":  # the grading sandbox: the module is there, but empty
            sys.modules["course.inference._reference"] = types.ModuleType("course.inference._reference")
            importlib.reload(sys.modules["course.inference._plugins"])
        for part, attempt in attempts.items():
            try:
                attempt()
            except ValueError as error:
                assert part.split(" (")[0] in str(error) and "pass " in str(error), error
            else:
                raise AssertionError(f"{edition}, {part}: the service ran without the student's function")
        Endpoint("single", [ProductionVariant(Model(uri, s3=s3))], s3=s3)  # one variant: no routing needed
        Transformer(Model(uri, s3=s3), output_path="s3://outp", strategy="SingleRecord")
        print(edition, "ok")
    """
)


@pytest.mark.slow
def test_without_the_reference_each_service_asks_for_the_students_function():
    done = subprocess.run(
        [sys.executable, "-c", STUDENT_EDITION], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["absent ok", "empty ok"]


def _heaviest(weights: dict, draws: list, targets: list) -> list:
    """A router unlike weighted routing: every request to the heaviest variant; 'nowhere' at weight 5."""
    if 5 in weights.values():
        return ["nowhere"] * len(draws)
    return [t if t is not None else max(weights, key=weights.get) for t in targets]


@pytest.mark.slow
def test_the_endpoint_routes_with_the_given_router(s3, model_uri, proba_uri):
    variants = [
        ProductionVariant(Model(model_uri, s3=s3), variant_name="A", initial_variant_weight=1.0),
        ProductionVariant(Model(proba_uri, s3=s3), variant_name="B", initial_variant_weight=2.0),
    ]
    with Endpoint("routed", variants, s3=s3, router=_heaviest, seed=0) as endpoint:
        client = endpoint.runtime_client()

        def answered(**target: str) -> str:
            return client.invoke_endpoint(EndpointName="routed", Body=b"5.9,3.0,5.1,1.8",
                                          ContentType="text/csv", **target)["InvokedProductionVariant"]  # fmt: skip

        assert {answered() for _ in range(20)} == {"B"}
        assert answered(TargetVariant="A") == "A"
        endpoint.update_endpoint_weights_and_capacities(
            DesiredWeightsAndCapacities=[{"VariantName": "A", "DesiredWeight": 3}]
        )
        assert {answered() for _ in range(20)} == {"A"}
        endpoint.update_endpoint_weights_and_capacities(
            DesiredWeightsAndCapacities=[{"VariantName": "A", "DesiredWeight": 5}]
        )
        with pytest.raises(ClientError) as raised:
            answered()
        assert raised.value.response["Error"]["Code"] == "InternalFailure"
        assert "nowhere" in raised.value.response["Error"]["Message"]
        assert answered(TargetVariant="B") == "B"  # the endpoint keeps serving


def _lru(loaded: list, sizes: dict, new_model: str, limit: int) -> list:
    out, used = [], sum(sizes[m] for m in loaded)
    for name in loaded:
        if used + sizes[new_model] <= limit:
            break
        out.append(name)
        used -= sizes[name]
    return out


def _most_recent(loaded: list, sizes: dict, new_model: str, limit: int) -> list:
    return _lru(loaded[::-1], sizes, new_model, limit)


@pytest.fixture(scope="module")
def mme_prefix(s3, model):
    for name in "abc":
        create_model_artifact(model, f"s3://plug-mme/models/{name}.tar.gz", s3=s3)
    return "s3://plug-mme/models/"


def test_the_model_cache_unloads_what_choose_evictions_says(s3, mme_prefix, tmp_path):
    probe = ModelCache(mme_prefix, s3=s3, memory_limit_bytes=10**9, work_dir=tmp_path / "probe",
                       choose_evictions=_lru)  # fmt: skip
    probe.get("a.tar.gz")
    size = probe.memory_bytes()
    for rule, evicted in [
        (_lru, ["a.tar.gz", "b.tar.gz", "c.tar.gz"]),
        (_most_recent, ["b.tar.gz", "a.tar.gz"]),
    ]:
        cache = ModelCache(mme_prefix, s3=s3, memory_limit_bytes=2 * size, work_dir=tmp_path / rule.__name__,
                           choose_evictions=rule)  # fmt: skip
        for name in ["a", "b", "c", "a", "b"]:
            cache.get(f"{name}.tar.gz")
        assert cache.stats()["evictions"] == evicted
    keep_all = ModelCache(mme_prefix, s3=s3, memory_limit_bytes=2 * size, work_dir=tmp_path / "keep",
                          choose_evictions=lambda loaded, sizes, new, limit: [])  # fmt: skip
    keep_all.get("a.tar.gz")
    keep_all.get("b.tar.gz")
    with pytest.raises(ValueError, match="choose_evictions returned"):
        keep_all.get("c.tar.gz")
    assert keep_all.stats()["loaded"] == ["a.tar.gz", "b.tar.gz"]  # nothing lost


@pytest.mark.slow
def test_a_multi_model_endpoint_runs_the_given_choose_evictions(s3, mme_prefix, tmp_path):
    probe = ModelCache(mme_prefix, s3=s3, memory_limit_bytes=10**9, work_dir=tmp_path, choose_evictions=_lru)
    probe.get("a.tar.gz")
    limit_mb = (2 * probe.memory_bytes() + 1) / 2**20
    mme = MultiDataModel("plug-mme", mme_prefix, s3=s3)
    with mme.deploy(memory_limit_mb=limit_mb, choose_evictions=_most_recent) as endpoint:
        client = endpoint.runtime_client()
        for name in ["a", "b", "c", "a", "b"]:
            body = client.invoke_endpoint(EndpointName="plug-mme", Body=b"5.9,3.0,5.1,1.8", ContentType="text/csv",
                                          TargetModel=f"{name}.tar.gz")["Body"].read()  # fmt: skip
            assert json.loads(body) == [2]
        stats = endpoint.stats()["models"]
    assert stats["evictions"] == ["b.tar.gz", "a.tar.gz"]
    assert stats["loads"] == {"a.tar.gz": 1, "b.tar.gz": 2, "c.tar.gz": 1}


@pytest.mark.slow
def test_the_transformer_packs_with_the_given_mini_batch_fn(s3, model_uri, model, iris):
    X, _ = iris
    s3.put_object("s3://plug-batch/in/part.csv", "\n".join(_csv_lines(X[:30])) + "\n")

    def pairs(records: list, max_payload_bytes: int) -> list:
        return [list(range(i, min(i + 2, len(records)))) for i in range(0, len(records), 2)]

    def broken(records: list, max_payload_bytes: int) -> list:
        raise NotImplementedError

    transformer = Transformer(Model(model_uri, s3=s3), output_path="s3://plug-batch/out", assemble_with="Line",
                              accept="text/csv", mini_batch_fn=pairs)  # fmt: skip
    job = transformer.transform("s3://plug-batch/in/", split_type="Line")
    assert (job.status, job.records, job.requests) == ("Completed", 30, 15)
    assert s3.get_object("s3://plug-batch/out/part.csv.out").decode().split() == [
        str(c) for c in model.predict(X[:30])
    ]
    transformer.mini_batch_fn = broken
    job = transformer.transform("s3://plug-batch/in/", split_type="Line")
    assert job.status == "Failed" and "NotImplementedError" in job.failure_reason
