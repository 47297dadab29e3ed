"""The sanction rule, pure (no Django): the `no_sanction` gate applies it to database
rows, the offline verifier to logged sanction events."""

from __future__ import annotations


def sanction_forbids(*, stage: str, min_training_compute_flop: float, stage_names: list[str],
                     target: str, training_compute_flop: float | None) -> bool:
    """Whether a sanction on ``stage`` above ``min_training_compute_flop`` forbids
    entering ``target``.

    A system that does not declare its training compute counts as above every threshold:
    leaving the number out must not be a way around a sanction. A sanction naming a stage
    the release's policy does not have forbids every advance, for the same reason.
    """
    if training_compute_flop is not None and training_compute_flop <= min_training_compute_flop:
        return False
    if stage not in stage_names or target not in stage_names:
        return True
    return stage_names.index(target) > stage_names.index(stage)
