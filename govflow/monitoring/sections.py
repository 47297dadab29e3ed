"""The policy sections this area adds (settings.GOVFLOW_POLICY_SECTIONS)."""

from govflow.monitoring.affordances import check_reassessment
from govflow.monitoring.policy import check_incident_response

SECTIONS = {
    "incident_response": check_incident_response,
    "reassessment": check_reassessment,
}
