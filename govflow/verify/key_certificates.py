"""Key certificates in the log, and which of them the verifier counts.

The lab's server writes every key registration, so a key in the log says nothing about
whose it really is. A regulator's key certificate does, but only if the verifier knows
the regulator's key from somewhere other than the log: a certificate counts only when
its envelope verifies under a key pinned with ``--regulator-key`` (the log's own record
of a "regulator" key is the operator's to write). With ``--trust-log-regulator-keys``
a certificate signed by any key the log registers to its actor counts instead: that
proves nothing against an operator who mints a regulator's key, and the report says so.

A revocation counts whoever signed it (its envelope still verifies under its actor's
logged key, as every signed act's): a revocation only takes weight away, so accepting
it can never make a gate easier. It withdraws every earlier certificate of its key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

import govflow.keys.certificate_predicates as p
from govflow.trust import dsse
from govflow.trust.keys import KeyFormatError, parse_public_key, public_key_id
from govflow.trust.statements import StatementError, parse_payload
from govflow.verify.log_checks import Event, describe
from govflow.verify.report import Report, VerificationFailed
from govflow.verify.witnesses import UsageError

ISSUED = "key_certificate.issued"
REVOKED = "key_certificate.revoked"


@dataclass(frozen=True)
class RegulatorTrust:
    """The regulator keys a key certificate must verify under (pinned trust roots)."""

    keys: dict[str, Ed25519PublicKey] = field(default_factory=dict)
    trust_log: bool = False  # count certificates under keys the log names (weaker)

    @property
    def given(self) -> bool:
        return bool(self.keys) or self.trust_log


def parse_regulator_keys(values: Sequence[str], *, trust_log: bool = False) -> RegulatorTrust:
    """Each value: an Ed25519 public key (base64 of the raw 32 bytes, or PEM), or the path
    of a file holding one."""
    if values and trust_log:
        raise UsageError("--regulator-key and --trust-log-regulator-keys exclude each other")
    keys: dict[str, Ed25519PublicKey] = {}
    for value in values:
        text = value
        path = Path(value)
        if "\n" not in value and len(value) < 4096 and path.is_file():
            text = path.read_text(encoding="utf-8")
        try:
            key = parse_public_key(text.strip())
        except KeyFormatError as exc:
            raise UsageError(f"--regulator-key {value[:40]!r}: {exc}") from exc
        keys[public_key_id(key)] = key
    return RegulatorTrust(keys=keys, trust_log=trust_log)


def _claim(event: Event, predicate_type: str) -> Any:
    try:
        _, raw, _ = dsse.parse_envelope(event.body["payload"]["envelope"])
        return parse_payload(raw, predicate_type)[1]
    except (dsse.EnvelopeError, StatementError) as exc:
        raise VerificationFailed(f"{describe(event)}: not a {predicate_type} statement: "
                                 f"{exc}") from exc


def _pinned(event: Event, trust: RegulatorTrust) -> bool:
    if not trust.keys:
        return False
    try:
        dsse.verify_envelope(event.body["payload"]["envelope"], trust.keys)
    except dsse.EnvelopeError:
        return False
    return True


@dataclass
class Certificates:
    """The certificates that count (`tally.certificate_refusal`'s shape, ``issued`` and
    ``revoked`` as log indexes) and, by key, the ones that do not, with why."""

    counted: list[dict[str, Any]] = field(default_factory=list)
    refused: dict[str, list[str]] = field(default_factory=dict)

    def note(self, key_id: str) -> str:
        return "".join(f" ({why})" for why in self.refused.get(key_id, []))


def collect(events: list[Event], trust: RegulatorTrust, report: Report) -> Certificates:
    """Key certificates and revocations in log order. Their envelopes were verified
    against their actors' logged keys already (`signatures.check`)."""
    out = Certificates()
    everything: list[dict[str, Any]] = []
    for event in events:
        if not event.may_be("key_certificate."):
            continue
        kind = event.body["type"]
        if kind == ISSUED:
            claim = _claim(event, p.KEY_CERTIFICATE_PREDICATE)
            certificate = {
                "id": event.body["payload"].get("certificate"), "key_id": claim.key_id,
                "user_id": claim.user_id, "organization": claim.organization_id,
                "role": claim.role, "valid_from": claim.valid_from,
                "valid_until": claim.valid_until, "issued": event.index, "revoked": None,
            }
            everything.append(certificate)
            if trust.trust_log or _pinned(event, trust):
                out.counted.append(certificate)
            else:
                out.refused.setdefault(claim.key_id, []).append(
                    f"{describe(event)} certifies it, but is not signed by any regulator key "
                    "given with --regulator-key")
        elif kind == REVOKED:
            claim = _claim(event, p.KEY_CERTIFICATE_REVOCATION_PREDICATE)
            for certificate in everything:
                if certificate["key_id"] == claim.key_id and certificate["revoked"] is None:
                    certificate["revoked"] = event.index
    if everything:
        report.ok(f"{len(everything)} key certificate(s) in the log, {len(out.counted)} "
                  + ("signed by a pinned regulator key" if trust.keys else
                     "taken on the log's word (--trust-log-regulator-keys)"))
    if trust.trust_log:
        report.warn("key certificates were taken from the log's own keys "
                    "(--trust-log-regulator-keys): an operator that registers a key in a "
                    "regulator's name can certify any key; pin --regulator-key instead")
    return out


def policies_require(policies: list[Any]) -> list[str]:
    """The gates (stage/gate id) of these policies that require certified keys."""
    found = []
    for policy in policies:
        for stage in policy.document.get("stages") or []:
            for gate in stage.get("gates") or []:
                if gate.get("kind") == "signoffs" and gate.get("certified_keys") is True:
                    found.append(f"{stage.get('name')}/{gate.get('id', gate['kind'])}")
    return found
