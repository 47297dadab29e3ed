"""Background work: Celery (the broker, acknowledgement and reconnection), eval runs on the
workers, and beat's schedule."""

from __future__ import annotations

from govflow.core.env import env_bool, env_int, env_str
from govflow.evalruns.endpoints import SIMULATOR_ENDPOINTS, endpoints_from_env
from govflow.settings.core import PRODUCTION, VAR_DIR
from govflow.settings.governance import (
    GOVFLOW_CHECKPOINT_INTERVAL_SECONDS,
    GOVFLOW_KYC_EXPIRY_SWEEP_SECONDS,
    GOVFLOW_MONITORING_TICK_SECONDS,
    GOVFLOW_RECONCILE_INTERVAL_SECONDS,
)

# Celery. The demo default is the filesystem transport, so `make run` needs no broker;
# tests and production point CELERY_BROKER_URL at Redis or RabbitMQ.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_FILESYSTEM_DIR = VAR_DIR / "broker"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 360, minimum=1)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# One queue name per deployment (or per test session, so parallel runs sharing a Redis
# database never take each other's tasks).
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")
# A broker restart or failover must not end the workers: they reconnect for as long as it
# takes (Celery's default gives up after 100 attempts, and Celery 6 would not retry at
# start-up at all), and a worker started before its broker waits for it.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# A task running when the connection drops cannot be acknowledged (acks late) and is
# delivered again. It is let finish rather than cancelled: every task is idempotent (a
# chunk stores its samples under unique keys, so its redelivery skips them), and when the
# broker lost its queues (a Redis without persistence) what it stored is not lost with them.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False

# Eval runs (govflow.evalruns). Model endpoints are named by the operator, never given by
# API callers: JSON or a JSON file path, name -> {base_url, model, api_key_env, timeout,
# max_response_bytes}; keys are read from the variable api_key_env names. Outside
# production the default is the SIMULATED agent (`python -m evals.simulator`, port 8900).
GOVFLOW_EVAL_ENDPOINTS = endpoints_from_env(
    "GOVFLOW_EVAL_ENDPOINTS", {} if PRODUCTION else SIMULATOR_ENDPOINTS
)
GOVFLOW_EVAL_CHUNK_SIZE = env_int("GOVFLOW_EVAL_CHUNK_SIZE", 25, minimum=1)
GOVFLOW_EVAL_CONCURRENCY = env_int("GOVFLOW_EVAL_CONCURRENCY", 16, minimum=1)
GOVFLOW_EVAL_MAX_SAMPLES_PER_CELL = env_int("GOVFLOW_EVAL_MAX_SAMPLES_PER_CELL", 2000, minimum=1)
GOVFLOW_EVAL_MAX_SAMPLES_PER_RUN = env_int("GOVFLOW_EVAL_MAX_SAMPLES_PER_RUN", 20000, minimum=1)
# Chunk retries (govflow.evalruns.retry): first backoff, longest wait (keep it under the
# Redis visibility timeout, 1 h), identical failures in a row before the run fails.
GOVFLOW_EVAL_RETRY_BACKOFF_MS = env_int("GOVFLOW_EVAL_RETRY_BACKOFF_MS", 1000, minimum=1)
GOVFLOW_EVAL_RETRY_MAX_DELAY = env_int("GOVFLOW_EVAL_RETRY_MAX_DELAY", 300, minimum=1)
GOVFLOW_EVAL_MAX_IDENTICAL_FAILURES = env_int("GOVFLOW_EVAL_MAX_IDENTICAL_FAILURES", 8,
                                              minimum=1)
GOVFLOW_EVAL_MAX_ATTEMPTS = env_int("GOVFLOW_EVAL_MAX_ATTEMPTS", 200, minimum=1)
GOVFLOW_EVAL_CHUNK_SOFT_TIME_LIMIT = env_int("GOVFLOW_EVAL_CHUNK_SOFT_TIME_LIMIT", 600,
                                             minimum=1)

if CELERY_BROKER_URL.startswith("filesystem://"):
    # Kombu's filesystem transport: producer and worker exchange messages as files,
    # so the demo runs a real worker with no broker process.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_FILESYSTEM_DIR / "out"),
        "data_folder_out": str(CELERY_FILESYSTEM_DIR / "out"),
        "processed_folder": str(CELERY_FILESYSTEM_DIR / "processed"),
        "control_folder": str(CELERY_FILESYSTEM_DIR / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = None
    for _folder in ("out", "processed", "control"):
        (CELERY_FILESYSTEM_DIR / _folder).mkdir(parents=True, exist_ok=True)

CELERY_BEAT_SCHEDULE = {
    "audit-reconcile": {
        "task": "govflow.audit.tasks.reconcile",
        "schedule": float(GOVFLOW_RECONCILE_INTERVAL_SECONDS),
    },
    "audit-checkpoint": {
        "task": "govflow.audit.tasks.checkpoint",
        "schedule": float(GOVFLOW_CHECKPOINT_INTERVAL_SECONDS),
    },
    # Reporting-clock reminders and overdue marks, online-learning re-evaluations.
    "monitoring-tick": {
        "task": "govflow.monitoring.tasks.tick",
        "schedule": float(GOVFLOW_MONITORING_TICK_SECONDS),
    },
    "rollout-expire-kyc": {
        "task": "govflow.rollout.tasks.expire_kyc",
        "schedule": float(GOVFLOW_KYC_EXPIRY_SWEEP_SECONDS),
    },
}
