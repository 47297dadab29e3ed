"""Settings for bench/findings_throughput.py: govflow's own, with one extra URL, the
stripped baseline (bench/findings_baseline.py), so both run on the same gunicorn."""

from govflow.settings import *  # noqa: F403

ROOT_URLCONF = "bench.findings_baseline"
