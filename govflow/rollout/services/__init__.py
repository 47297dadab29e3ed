"""Every write of the rollout: one transaction each, with its audit event."""

from govflow.rollout.services.cohorts import cohort_admit, cohort_remove
from govflow.rollout.services.customers import (
    customer_register,
    kyc_expire,
    kyc_record,
    kyc_webhook_accept,
)
from govflow.rollout.services.growth import growth_record, growth_statement
from govflow.rollout.services.snapshots import snapshot_publish

__all__ = [
    "cohort_admit",
    "cohort_remove",
    "customer_register",
    "growth_record",
    "growth_statement",
    "kyc_expire",
    "kyc_record",
    "kyc_webhook_accept",
    "snapshot_publish",
]
