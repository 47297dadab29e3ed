"""Eval runs: the deception eval suite (`evals/`) run inside govflow for a release, fanned
out over Celery workers, stored sample by sample, summarised, and read by gates."""
