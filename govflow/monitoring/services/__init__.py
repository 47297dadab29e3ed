"""Every write of deployment monitoring: one transaction each, with its audit event."""

from govflow.monitoring.services.clocks import clock_tick
from govflow.monitoring.services.incidents import (
    incident_report,
    incident_report_file,
    incident_resolve,
)
from govflow.monitoring.services.notifications import notifications_deliver
from govflow.monitoring.services.reassessment import release_change_system_version
from govflow.monitoring.services.reevaluation import (
    reevaluation_complete,
    reevaluation_expire,
    reevaluation_schedule,
)
from govflow.monitoring.services.sources import source_heartbeat, source_register, source_retire

__all__ = [
    "clock_tick",
    "incident_report",
    "incident_report_file",
    "incident_resolve",
    "notifications_deliver",
    "reevaluation_complete",
    "reevaluation_expire",
    "reevaluation_schedule",
    "release_change_system_version",
    "source_heartbeat",
    "source_register",
    "source_retire",
]
