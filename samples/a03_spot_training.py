"""Plausible wrong answers to assignment 03 (Managed Spot Training with checkpoint restarts).

``WRONG_ANSWERS`` maps a variant name to replacement sources for solution cells
(by ``grade_id``); each variant must score less than full marks. ``PARTIAL`` is
one "partly right" student, worth roughly half the marks, for a demo class.

Every notebook of this assignment runs three short training jobs, so grading a
sample class is slow: ``WRONG_ANSWERS`` holds one or two variants per exercise,
graded by the real toolchain (tests/test_assignments.py); ``autograder
selftest`` checks the test cells against many more mutants.
"""

from __future__ import annotations

ASSIGNMENT = "03_spot_training"
NOTEBOOK = "spot_training.ipynb"

_PACK = '''def pack_checkpoint(state: dict) -> bytes:
    """Serialise a training state {"step", "weights", "rng_state"} to verifiable bytes."""
    if set(state) != {"step", "weights", "rng_state"}:
        raise ValueError(f"state must have the keys step, weights, rng_state; got {sorted(state)}")
'''

_UNPACK = '''def unpack_checkpoint(data: bytes) -> dict:
    """The training state stored by pack_checkpoint; ValueError if data is cut short or altered."""
'''

_LATEST = '''def latest_checkpoint(files: dict) -> tuple | None:
    """(step, state) of the newest checkpoint in a folder's contents that unpacks, or None."""
'''

_SAVE = '''def save_checkpoint(directory: str, state: dict, *, crash_before_rename: bool = False) -> str:
    """Write pack_checkpoint(state) to directory/checkpoint-<step>.ckpt; return the name."""
    os.makedirs(directory, exist_ok=True)
    name = f"checkpoint-{state['step']:08d}.ckpt"
    data = pack_checkpoint(state)
'''

_RESUME = '''def resume_batches(checkpoint, *, seed, n_samples, batch_size, total_steps):
    """The mini-batches of the steps left after the checkpoint, and the checkpoint after them."""
'''

_SAVINGS = '''def spot_savings(training_seconds: int, billable_seconds: int) -> float:
    """Managed Spot Training savings in percent."""
'''

_SAVINGS_CHECKS = """    if training_seconds <= 0:
        raise ValueError("training_seconds must be > 0")
    if not 0 <= billable_seconds <= training_seconds:
        raise ValueError("billable_seconds must be between 0 and training_seconds")
"""

_COSTS = '''def compare_costs(on_demand: dict, spot: dict, *, on_demand_price_per_hour: float) -> dict:
    """Dollars of an on-demand and a spot job, what spot saved, and how much longer it took."""
    if not on_demand_price_per_hour > 0:
        raise ValueError("on_demand_price_per_hour must be > 0")
'''

_PLAN = '''def plan_training_job(*, run_seconds, deadline_seconds, interruptions, seconds_lost_per_interruption, capacity_wait_seconds):
    """Spot if even the pessimistic case meets the deadline, else on-demand."""
    if run_seconds <= 0 or min(deadline_seconds, interruptions, seconds_lost_per_interruption, capacity_wait_seconds) < 0:
        raise ValueError("run_seconds must be > 0 and the other arguments >= 0")
    if run_seconds > deadline_seconds:
        raise ValueError("run_seconds exceeds deadline_seconds")
    worst_run = run_seconds + interruptions * seconds_lost_per_interruption
'''

# No digest: a truncated file fails to parse, but a changed byte in the array goes unnoticed.
_PACK_NO_DIGEST = (
    _PACK
    + """    header = json.dumps({"step": state["step"], "rng_state": state["rng_state"]}).encode()
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(state["weights"], dtype=np.float64), allow_pickle=False)
    return header + b"\\n" + buffer.getvalue()
"""
)
_UNPACK_NO_DIGEST = (
    _UNPACK
    + """    header, newline, array = data.partition(b"\\n")
    if not newline:
        raise ValueError("truncated checkpoint")
    meta = json.loads(header)
    try:
        weights = np.load(io.BytesIO(array), allow_pickle=False)
    except Exception as error:
        raise ValueError(f"damaged checkpoint: {error}") from None
    return {"step": int(meta["step"]), "weights": weights, "rng_state": meta["rng_state"]}
"""
)

# Takes the weights out of the caller's dict to serialise the rest, and never puts them back.
_PACK_MUTATES_STATE = (
    _PACK
    + """    weights = np.asarray(state.pop("weights"), dtype=np.float64)
    state["step"] = int(state["step"])
    header = json.dumps(state).encode()
    buffer = io.BytesIO()
    np.save(buffer, weights, allow_pickle=False)
    payload = header + b"\\n" + buffer.getvalue()
    return hashlib.sha256(payload).hexdigest().encode() + b"\\n" + payload
"""
)

# Takes the newest checkpoint without falling back when it does not unpack.
_LATEST_NO_FALLBACK = (
    _LATEST
    + """    steps = {}
    for name in files:
        match = re.fullmatch(r"checkpoint-(\\d{8})\\.ckpt", name)
        if match:
            steps[int(match.group(1))] = name
    if not steps:
        return None
    step = max(steps)
    return step, unpack_checkpoint(files[steps[step]])
"""
)

# Writes straight into the final file: an interruption leaves it in place.
_SAVE_IN_PLACE = (
    _SAVE
    + """    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    if crash_before_rename:
        raise OSError("simulated interruption")
    return name
"""
)

# Re-seeds the generator on resume instead of restoring its state.
_RESUME_RESEEDS = (
    _RESUME
    + """    step = 0 if checkpoint is None else checkpoint["step"]
    if step > total_steps:
        raise ValueError("the checkpoint is past total_steps")
    rng = np.random.default_rng(seed)
    batches = [rng.choice(n_samples, size=batch_size, replace=False) for _ in range(step, total_steps)]
    return batches, {"step": total_steps, "rng_state": rng.bit_generator.state}
"""
)

# Draws one batch too many: steps step..total_steps inclusive.
_RESUME_OFF_BY_ONE = (
    _RESUME
    + """    if checkpoint is None:
        rng, step = np.random.default_rng(seed), 0
    else:
        rng, step = np.random.default_rng(), checkpoint["step"]
        rng.bit_generator.state = checkpoint["rng_state"]
    if step > total_steps:
        raise ValueError("the checkpoint is past total_steps")
    batches = [rng.choice(n_samples, size=batch_size, replace=False) for _ in range(step, total_steps + 1)]
    return batches, {"step": total_steps, "rng_state": rng.bit_generator.state}
"""
)

# A fraction, not a percentage.
_SAVINGS_FRACTION = _SAVINGS + _SAVINGS_CHECKS + "    return 1 - billable_seconds / training_seconds\n"

# Forgets that every instance is billed.
_COSTS_ONE_INSTANCE = (
    _COSTS
    + """    on_demand_dollars = on_demand["BillableTimeInSeconds"] * on_demand_price_per_hour / 3600
    spot_dollars = spot["BillableTimeInSeconds"] * on_demand_price_per_hour / 3600
    return {
        "on_demand_dollars": on_demand_dollars,
        "spot_dollars": spot_dollars,
        "dollars_saved": on_demand_dollars - spot_dollars,
        "extra_seconds": spot["TrainingTimeInSeconds"] - on_demand["TrainingTimeInSeconds"],
    }
"""
)

# Spot only with time to spare: a worst case ending exactly at the deadline goes on demand.
_PLAN_STRICT = (
    _PLAN
    + """    worst_total = worst_run + interruptions * capacity_wait_seconds
    if worst_total < deadline_seconds and worst_run < deadline_seconds:
        return {"use_spot_instances": True, "max_run": worst_run, "max_wait": deadline_seconds}
    return {"use_spot_instances": False, "max_run": deadline_seconds, "max_wait": None}
"""
)

# Forgets the wait for capacity after each interruption.
_PLAN_NO_WAITS = (
    _PLAN
    + """    if worst_run < deadline_seconds:
        return {"use_spot_instances": True, "max_run": worst_run, "max_wait": deadline_seconds}
    return {"use_spot_instances": False, "max_run": deadline_seconds, "max_wait": None}
"""
)

WRONG_ANSWERS: dict[str, dict[str, str]] = {
    "pack_without_digest": {"pack_checkpoint": _PACK_NO_DIGEST, "unpack_checkpoint": _UNPACK_NO_DIGEST},
    "pack_mutates_state": {"pack_checkpoint": _PACK_MUTATES_STATE},
    "latest_without_fallback": {"latest_checkpoint": _LATEST_NO_FALLBACK},
    "save_in_place": {"save_checkpoint": _SAVE_IN_PLACE},
    "resume_reseeds_generator": {"resume_batches": _RESUME_RESEEDS},
    "resume_one_batch_too_many": {"resume_batches": _RESUME_OFF_BY_ONE},
    "savings_as_fraction": {"spot_savings": _SAVINGS_FRACTION},
    "costs_one_instance": {"compare_costs": _COSTS_ONE_INSTANCE},
    "plan_ignores_capacity_waits": {"plan_training_job": _PLAN_NO_WAITS},
}

# Checkpoints without a digest, writes in place, re-seeds on resume, savings as a fraction,
# one instance priced, a strict deadline: about half the marks.
PARTIAL: dict[str, str] = {
    "pack_checkpoint": _PACK_NO_DIGEST,
    "unpack_checkpoint": _UNPACK_NO_DIGEST,
    "save_checkpoint": _SAVE_IN_PLACE,
    "resume_batches": _RESUME_RESEEDS,
    "spot_savings": _SAVINGS_FRACTION,
    "compare_costs": _COSTS_ONE_INSTANCE,
    "plan_training_job": _PLAN_STRICT,
}
