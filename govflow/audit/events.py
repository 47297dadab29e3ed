"""Every kind of audit event govflow writes. One enum; services name a member of it."""

from django.db import models


class EventType(models.TextChoices):
    ORGANIZATION_CREATED = "organization.created"
    MEMBERSHIP_GRANTED = "membership.granted"
    TOKEN_ISSUED = "token.issued"
    TOKEN_REVOKED = "token.revoked"
    # Sign-in lockouts (govflow.accounts.signin): console, admin and API token failures.
    SIGNIN_LOCKED_OUT = "signin.locked_out"
    SIGNIN_UNLOCKED = "signin.unlocked"
    SYSTEM_REGISTERED = "system.registered"
    SYSTEM_VERSION_CREATED = "system.version_created"
    POLICY_REGISTERED = "policy.registered"
    RELEASE_OPENED = "release.opened"
    RELEASE_ADVANCED = "release.advanced"
    RELEASE_ROLLED_BACK = "release.rolled_back"
    RELEASE_PAUSED = "release.paused"
    RELEASE_RESUMED = "release.resumed"
    RELEASE_HALTED = "release.halted"
    EVIDENCE_ATTACHED = "evidence.attached"
    # Signing keys: the offline verifier reads public keys from these events' payloads.
    KEY_REGISTERED = "key.registered"
    KEY_ROTATED = "key.rotated"
    KEY_REVOKED = "key.revoked"
    # A regulator's signed key certificate (govflow.keys.certificates), and its
    # revocation; deliberately not "key.": the verifier reads public keys of "key."
    # events as registrations.
    KEY_CERTIFICATE_ISSUED = "key_certificate.issued"
    KEY_CERTIFICATE_REVOKED = "key_certificate.revoked"
    SIGNOFF_RECORDED = "signoff.recorded"
    # Third-party auditing (govflow.auditing): signed statements carry their envelope.
    CERTIFICATE_ISSUED = "certificate.issued"
    CERTIFICATE_SUSPENDED = "certificate.suspended"
    CERTIFICATE_REINSTATED = "certificate.reinstated"
    CERTIFICATE_REVOKED = "certificate.revoked"
    CONFLICT_DECLARED = "conflict.declared"
    ASSIGNMENT_CREATED = "assignment.created"
    ASSIGNMENT_ENDED = "assignment.ended"
    FINDING_ATTACHMENT_UPLOADED = "finding.attachment_uploaded"
    FINDING_FILED = "finding.filed"
    FINDING_STATEMENT_APPENDED = "finding.statement_appended"
    CONCLUSION_RECORDED = "conclusion.recorded"
    # Regulatory oversight (govflow.oversight): holds and sanctions carry their envelope;
    # whistleblower events carry a digest of what was said, never the text.
    HOLD_PLACED = "hold.placed"
    HOLD_LIFTED = "hold.lifted"
    SANCTION_IMPOSED = "sanction.imposed"
    SANCTION_LIFTED = "sanction.lifted"
    WHISTLEBLOWER_REPORT_RECEIVED = "whistleblower.report_received"
    WHISTLEBLOWER_MESSAGE_ADDED = "whistleblower.message_added"
    # Limited rollout (govflow.rollout): payloads name customers by internal id and salted
    # leaf only, never by external id or name.
    CUSTOMER_REGISTERED = "customer.registered"
    KYC_RECORDED = "kyc.recorded"
    KYC_EXPIRED = "kyc.expired"
    COHORT_MEMBER_ADMITTED = "cohort.member_admitted"
    COHORT_MEMBER_REMOVED = "cohort.member_removed"
    COHORT_GROWTH_SIGNED = "cohort.growth_signed"
    COHORT_SNAPSHOT_PUBLISHED = "cohort.snapshot_published"
    # Deployment monitoring (govflow.monitoring).
    MONITORING_SOURCE_REGISTERED = "monitoring.source_registered"
    MONITORING_SOURCE_RETIRED = "monitoring.source_retired"
    INCIDENT_REPORTED = "incident.reported"
    INCIDENT_RESOLVED = "incident.resolved"
    INCIDENT_REPORT_FILED = "incident.report_filed"
    REPORTING_CLOCK_REMINDED = "reporting_clock.reminded"
    REPORTING_CLOCK_OVERDUE = "reporting_clock.overdue"
    RELEASE_SYSTEM_VERSION_CHANGED = "release.system_version_changed"
    REEVALUATION_SCHEDULED = "reevaluation.scheduled"
    REEVALUATION_COMPLETED = "reevaluation.completed"
    # Eval runs (govflow.evalruns): the completion carries the summary and samples digests.
    EVAL_RUN_STARTED = "eval_run.started"
    EVAL_RUN_RESUMED = "eval_run.resumed"
    EVAL_RUN_FAILED = "eval_run.failed"
    EVAL_RUN_COMPLETED = "eval_run.completed"
    EVAL_RUN_WITHDRAWN = "eval_run.withdrawn"
    # Witnesses (govflow.audit.witnessing): a witness refused to cosign a checkpoint (the
    # log looks forked or rewritten to it). The refusal itself is logged as evidence.
    WITNESS_REFUSED = "witness.refused"
    # The audit log itself (govflow.audit.log): each checkpoint's last leaf commits to
    # every release's event count and chain head (govflow.trust.release_chain).
    LOG_RELEASE_HEADS = "log.release_heads"
    # A row the sequencer refused (SequencingAlarm), set aside so that sequencing resumes;
    # the event carries the refused row's bytes and both hashes into the tree.
    LOG_EVENT_QUARANTINED = "log.event_quarantined"
