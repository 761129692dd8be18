"""Benchmark of assignment 03's training package (a script, not a test).

Prints, each against a baseline measured in the same run with the same settings:

1. Checkpoint overhead at the notebook's checkpoint interval, as a fraction of
   training time. Measured twice: in process (time to save one checkpoint
   against the time of the steps between two checkpoints, median over
   repeats), and end to end (median TrainingTimeInSeconds of on-demand jobs
   that checkpoint and sync to S3, against the same jobs without
   checkpoints). Goal: under 5%.
2. Resumed weights against uninterrupted weights over seeded random
   interruption schedules (some with no grace period, so SIGKILL lands during
   checkpoint writes and uploads). Goal: all bit-for-bit equal.
3. Work lost per interruption (steps redone after a resume), against the
   checkpoint interval. Goal: never more than one interval.
4. Time and cost of the notebook's spot job with and without checkpoints,
   against the same job on demand (medians over the schedules).

The course package ships no checkpoint functions (they are assignment 03's
exercises): the jobs here run the course's script with the instructor's
answers from the source notebook (samples/solutions.py), put next to it by
``checkpointing_source_dir`` as the notebook does with a student's.

Run:  python benchmarks/training.py [--schedules 8] [--repeats 3] [--quick]
"""

from __future__ import annotations

import argparse
import atexit
import importlib.util
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from course.storage import LocalS3
from course.training import (
    SCRIPT,
    SCRIPT_DIR,
    Estimator,
    SpotMarket,
    checkpointing_source_dir,
    load_model,
    training_cost,
    upload_digits,
    work_lost,
)

# A larger job than the notebook's (which uses batches of 128 and a checkpoint every 5 steps to
# keep CI short): full digits, batches of 64 (23 steps per epoch), a checkpoint every 10 steps,
# 6 simulated seconds per step at a time scale of 0.01 (60 ms), 4 epochs.
HPS = {"epochs": 4, "batch_size": 64, "checkpoint_interval": 10, "seconds_per_step": 6.0}
INSTANCE_TYPE = "ml.m5.xlarge"
TIME_SCALE = 0.01

_spec = importlib.util.spec_from_file_location("train_sgd", SCRIPT_DIR / SCRIPT)
train_sgd = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(train_sgd)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "samples"))
from solutions import solution_namespace  # noqa: E402

SOLUTION = solution_namespace("03_spot_training")
CHECKPOINT_FUNCTIONS = (
    "pack_checkpoint",
    "unpack_checkpoint",
    "latest_checkpoint",
    "save_checkpoint",
    "load_latest_checkpoint",
)
CODE = checkpointing_source_dir(
    tempfile.mkdtemp(prefix="bench-training-code-"), [SOLUTION[name] for name in CHECKPOINT_FUNCTIONS]
)
atexit.register(shutil.rmtree, CODE, ignore_errors=True)


def in_process_overhead(repeats: int) -> None:
    """Time to save one checkpoint against the training time between two checkpoints."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1437, 64))
    y = rng.integers(0, 10, size=1437)
    hps = {**train_sgd.HYPERPARAMETERS, **HPS}
    interval = hps["checkpoint_interval"]
    pause = hps["seconds_per_step"] * TIME_SCALE
    train_times, save_times = [], []
    with tempfile.TemporaryDirectory() as folder:
        state = train_sgd.fresh_state(64, 10, len(y), seed=0)
        for k in range(1, repeats * 5 + 1):
            start = time.perf_counter()
            train_sgd.train(state, X, y, hps, until_step=k * interval, pause=pause)
            train_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            SOLUTION["save_checkpoint"](folder, train_sgd.to_checkpoint(state))
            save_times.append(time.perf_counter() - start)
    train_median, save_median = statistics.median(train_times), statistics.median(save_times)
    ratio = save_median / train_median
    print(
        f"\n== Checkpoint overhead, in process ({interval} steps of {pause * 1000:.0f} ms each between saves)"
    )
    print(f"   {interval} training steps (baseline): median {train_median * 1000:8.2f} ms")
    print(f"   one atomic checkpoint save:      median {save_median * 1000:8.2f} ms")
    print(f"   overhead: {ratio:.2%} of training time (goal < 5%: {'met' if ratio < 0.05 else 'MISSED'})")


def make(s3: LocalS3, root: Path, **kwargs) -> Estimator:
    settings = {
        "entry_point": SCRIPT,
        "source_dir": CODE,
        "hyperparameters": HPS,
        "instance_type": INSTANCE_TYPE,
        "s3": s3,
        "local_root": root,
        "time_scale": TIME_SCALE,
    }
    return Estimator(**{**settings, **kwargs})


def end_to_end_overhead(s3: LocalS3, root: Path, channels: dict[str, str], repeats: int) -> None:
    """On-demand jobs with checkpoints synced to S3 against the same jobs without checkpoints."""
    times: dict[str, list[int]] = {"without checkpoints (baseline)": [], "with checkpoints": []}
    short = {"without checkpoints (baseline)": "plain", "with checkpoints": "ckpt"}
    for k in range(repeats):
        for label in times:  # interleaved, so a busy moment of the machine hits both
            kwargs = {}
            if label == "with checkpoints":
                kwargs["checkpoint_s3_uri"] = f"s3://bench-ckpt/overhead-{k}"
            else:
                kwargs["hyperparameters"] = {**HPS, "checkpoint_interval": 10**9}
            estimator = make(s3, root, **kwargs)
            estimator.fit(channels, job_name=f"overhead-{k}-{short[label]}", logs=False)
            times[label].append(estimator.latest_training_job.describe()["TrainingTimeInSeconds"])
    print(f"\n== Checkpoint overhead, end to end (on-demand jobs, {repeats} each, simulated seconds)")
    medians = {label: statistics.median(values) for label, values in times.items()}
    for label, values in times.items():
        print(f"   {label:<31} median {medians[label]:6.1f}   runs {values}")
    base = medians["without checkpoints (baseline)"]
    ratio = medians["with checkpoints"] / base - 1
    print(
        f"   overhead: {ratio:+.2%} of training time (goal < 5%: {'met' if ratio < 0.05 else 'MISSED'}; "
        "includes process start-up noise)"
    )


def schedules(s3: LocalS3, root: Path, channels: dict[str, str], n: int) -> None:
    """Seeded random interruption schedules: weights, work lost, time and cost."""
    reference = make(s3, root)
    reference.fit(channels, job_name="reference", logs=False)
    on_demand = reference.latest_training_job.describe()
    expected = load_model(s3, reference.model_data())
    hps = {**HPS, "log_interval": 1}
    equal, lost_steps, interrupted_writes = 0, [], 0
    costs: dict[str, list[float]] = {"with checkpoints": [], "without checkpoints": []}
    seconds: dict[str, list[int]] = {"with checkpoints": [], "without checkpoints": []}
    for seed in range(n):
        grace = 0.0 if seed % 2 else 30.0
        market = SpotMarket.random(
            seed=seed, max_interruptions=3, mean_seconds_to_interruption=250, mean_capacity_wait=60,
            grace_seconds=grace,
        )  # fmt: skip
        for label in costs:
            kwargs = (
                {"checkpoint_s3_uri": f"s3://bench-ckpt/schedule-{seed}"}
                if label == "with checkpoints"
                else {}
            )
            estimator = make(
                s3, root, hyperparameters=hps, use_spot_instances=True, max_run=36000, max_wait=72000,
                spot_market=market, **kwargs,
            )  # fmt: skip
            estimator.fit(
                channels,
                job_name=f"schedule-{seed}-{'ckpt' if label == 'with checkpoints' else 'plain'}",
                logs=False,
            )
            description = estimator.latest_training_job.describe()
            costs[label].append(
                training_cost(description["BillableTimeInSeconds"], instance_type=INSTANCE_TYPE)
            )
            seconds[label].append(description["TrainingTimeInSeconds"])
            if label == "with checkpoints":
                weights = load_model(s3, estimator.model_data())
                equal += all(np.array_equal(weights[k], expected[k]) for k in expected)
                logs = estimator.latest_training_job.logs()
                lost_steps.extend(work_lost(logs))
                interrupted_writes += sum(
                    log.count("a checkpoint write that was interrupted") for log in logs
                )
    print(f"\n== Interruptions: {n} seeded schedules, up to 3 interruptions each (half with no grace period)")
    print(f"   resumed weights bit-for-bit equal to uninterrupted (baseline): {equal}/{n} "
          f"(goal: all: {'met' if equal == n else 'MISSED'})")  # fmt: skip
    print(
        f"   kills that cut a checkpoint write short (temporary file found on resume): {interrupted_writes}"
    )
    interval = HPS["checkpoint_interval"]
    worst = max(lost_steps, default=0)
    print(f"   work lost per interruption (steps): median {statistics.median(lost_steps or [0]):.0f}, "
          f"max {worst}, over {len(lost_steps)} resumes; checkpoint interval {interval} "
          f"(goal max <= interval: {'met' if worst <= interval else 'MISSED'})")  # fmt: skip
    base_cost = training_cost(on_demand["BillableTimeInSeconds"], instance_type=INSTANCE_TYPE)
    print(f"\n== Time and cost on {INSTANCE_TYPE} (medians over the schedules)")
    print(
        f"   on demand, uninterrupted (baseline): {on_demand['TrainingTimeInSeconds']:6d} s  ${base_cost:.5f}"
    )
    for label in costs:
        t, c = statistics.median(seconds[label]), statistics.median(costs[label])
        print(f"   spot {label:<31} {t:6.0f} s  ${c:.5f}   time x{t / on_demand['TrainingTimeInSeconds']:.2f}, "
              f"cost x{c / base_cost:.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="2 schedules, 1 repeat")
    args = parser.parse_args()
    if args.quick:
        args.schedules, args.repeats = 2, 1
    start = time.perf_counter()
    in_process_overhead(args.repeats)
    with tempfile.TemporaryDirectory() as folder:
        s3 = LocalS3(Path(folder) / "s3")
        channels = upload_digits(s3, "s3://bench-data/digits", seed=0)
        end_to_end_overhead(s3, Path(folder) / "jobs", channels, args.repeats)
        schedules(s3, Path(folder) / "jobs", channels, args.schedules)
    print(f"\n({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
