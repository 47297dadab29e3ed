"""Every write of third-party auditing, one transaction and one audit event each
(`<noun>_<verb>`, keyword-only). One module per seam: certification, assignment
(conflicts and engagements), attachments, findings, conclusions; `returns` is the
policy-driven move back that findings and conclusions may trigger."""

from govflow.auditing.services.assignment import (
    assignment_create,
    assignment_end,
    conflict_declare,
)
from govflow.auditing.services.attachments import attachment_upload
from govflow.auditing.services.certification import (
    certificate_issue,
    certificate_reinstate,
    certificate_revoke,
    certificate_suspend,
)
from govflow.auditing.services.conclusions import conclusion_record
from govflow.auditing.services.findings import finding_file, finding_statement_append

__all__ = [
    "assignment_create", "assignment_end", "attachment_upload", "certificate_issue",
    "certificate_reinstate", "certificate_revoke", "certificate_suspend", "conclusion_record",
    "conflict_declare", "finding_file", "finding_statement_append",
]
