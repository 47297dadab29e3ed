"""govflow's own rules: evidence limits, policies and gate kinds, the hooks other areas
register, tokens, the audit log's key and witnesses, KYC providers, the intervals of the
periodic sweeps."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from govflow.core.env import env_int, env_list, env_str, env_witnesses
from govflow.settings.core import BASE_DIR, PRODUCTION, VAR_DIR

# Largest evidence document accepted through the API, in bytes.
GOVFLOW_MAX_EVIDENCE_BYTES = env_int("GOVFLOW_MAX_EVIDENCE_BYTES", 20 * 1024 * 1024, minimum=1)
# Largest finding attachment an auditor may upload, in bytes.
GOVFLOW_MAX_FINDING_ATTACHMENT_BYTES = env_int(
    "GOVFLOW_MAX_FINDING_ATTACHMENT_BYTES", 10 * 1024 * 1024, minimum=1
)

# Where release policies live. A release stores the content of the policy it was
# opened under, so editing a file here never changes an open release's rules.
GOVFLOW_POLICY_DIR = Path(env_str("GOVFLOW_POLICY_DIR", str(BASE_DIR / "policies")))
GOVFLOW_DEFAULT_POLICY = env_str("GOVFLOW_DEFAULT_POLICY", "default")

# Gate kinds: one module each, exposing KIND. Later areas append theirs.
GOVFLOW_GATE_KINDS = [
    "govflow.gates.kinds.evidence_document",
    "govflow.gates.kinds.stage_dwell",
    "govflow.signoffs.gate",
    "govflow.auditing.gates.third_party_audit",
    "govflow.auditing.gates.open_findings",
    "govflow.oversight.gate",
    "govflow.rollout.gate",
    "govflow.monitoring.gate",
    "govflow.evalruns.gates.deception_eval",
    "govflow.evalruns.gates.inspect_log",
]

# Top-level policy sections other areas add (modules exposing SECTIONS).
GOVFLOW_POLICY_SECTIONS = ["govflow.monitoring.sections"]

# Called (release_id=) right after the commit of any change to a release's stage, status or
# system version, in the request that made it: the serving gateway's access cache.
GOVFLOW_RELEASE_CHANGE_HOOKS = ["govflow.rollout.cache.on_release_changed"]

# Checks `release_advance` runs before any gate, whatever the release's policy: each is
# a callable (release=, target=, actor=) raising a domain error to refuse the advance.
GOVFLOW_ADVANCE_CHECKS = [
    "govflow.oversight.checks.no_standing_hold",
]

# How long a request waits for a concurrent one with the same Idempotency-Key to finish
# before it is answered 409 in_progress (govflow.core.idempotency).
GOVFLOW_IDEMPOTENCY_WAIT_MS = env_int("GOVFLOW_IDEMPOTENCY_WAIT_MS", 10_000, minimum=1)

GOVFLOW_TOKEN_TTL_DAYS = env_int("GOVFLOW_TOKEN_TTL_DAYS", 90, minimum=1)
# How long a server-issued sign-off nonce may wait for its signed statement (seconds).
GOVFLOW_SIGNOFF_NONCE_TTL_SECONDS = env_int("GOVFLOW_SIGNOFF_NONCE_TTL_SECONDS", 3600,
                                            minimum=1)
# The longest a person may ask a token of theirs to live (POST /api/tokens ttl_days).
GOVFLOW_TOKEN_MAX_TTL_DAYS = env_int("GOVFLOW_TOKEN_MAX_TTL_DAYS", 365, minimum=1)
# Called (digests=[…]) right after the commit of a token revocation: caches of tokens.
GOVFLOW_TOKEN_REVOKED_HOOKS = ["govflow.rollout.tokens.on_tokens_revoked"]

# The audit log's checkpoint signing key (Ed25519, PKCS#8 PEM) and its origin line.
# Production must set GOVFLOW_LOG_SIGNING_KEY_FILE; the demo generates one in var/.
GOVFLOW_LOG_SIGNING_KEY_FILE = env_str(
    "GOVFLOW_LOG_SIGNING_KEY_FILE", None if PRODUCTION else str(VAR_DIR / "log-signing-key.pem")
)
GOVFLOW_LOG_ORIGIN = env_str("GOVFLOW_LOG_ORIGIN", "govflow.demo/audit-log")
# Witnesses (C2SP tlog-witness) asked to cosign each checkpoint: "<URL> <witness vkey>",
# comma or newline separated. A malformed entry stops start-up (ImproperlyConfigured).
GOVFLOW_WITNESSES = env_witnesses("GOVFLOW_WITNESSES")
GOVFLOW_WITNESS_TIMEOUT_SECONDS = env_int("GOVFLOW_WITNESS_TIMEOUT_SECONDS", 5, minimum=1)
GOVFLOW_CHECKPOINT_INTERVAL_SECONDS = env_int(
    "GOVFLOW_CHECKPOINT_INTERVAL_SECONDS", 60, minimum=1
)

# KYC providers pushing verification results to /api/kyc/webhooks/<name>, each with its
# HMAC secret from GOVFLOW_KYC_SECRET_<NAME> (or …_FILE). The demo has one, "demo_kyc".
GOVFLOW_KYC_PROVIDERS = {}
for _name in env_list("GOVFLOW_KYC_PROVIDER_NAMES", [] if PRODUCTION else ["demo_kyc"]):
    _secret = env_str(f"GOVFLOW_KYC_SECRET_{_name.upper()}",
                      None if PRODUCTION else f"{_name}-demo-webhook-secret")
    if not _secret or len(_secret) < 16:
        raise ImproperlyConfigured(
            f"GOVFLOW_KYC_SECRET_{_name.upper()} must be set to at least 16 characters"
        )
    GOVFLOW_KYC_PROVIDERS[_name] = {
        "adapter": "govflow.rollout.providers.hmac_webhook.HmacWebhookProvider",
        "secret": _secret,
    }
# A webhook's timestamp may differ from the server's clock by at most this much.
GOVFLOW_KYC_WEBHOOK_TOLERANCE_SECONDS = env_int(
    "GOVFLOW_KYC_WEBHOOK_TOLERANCE_SECONDS", 300, minimum=1
)
GOVFLOW_KYC_EXPIRY_SWEEP_SECONDS = env_int("GOVFLOW_KYC_EXPIRY_SWEEP_SECONDS", 60, minimum=1)
GOVFLOW_MONITORING_TICK_SECONDS = env_int("GOVFLOW_MONITORING_TICK_SECONDS", 300, minimum=1)
# How often beat replays the log and compares the governed tables with it.
GOVFLOW_RECONCILE_INTERVAL_SECONDS = env_int(
    "GOVFLOW_RECONCILE_INTERVAL_SECONDS", 3600, minimum=60
)
