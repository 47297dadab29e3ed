"""The demo's oversight (called from `govflow.demo.build`; idempotent): rita placed a
regulatory hold on the release in audit and lifted it, and a whistleblower report came
in with her reply — through the same services the API and the console call."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import get_user_model

from govflow.demo.signing import signed
from govflow.keys.acts import act_perform
from govflow.keys.models import SigningKey
from govflow.keys.services import key_register
from govflow.oversight.acts import HOLD_LIFT, HOLD_PLACE
from govflow.oversight.models import RegulatoryHold, WhistleblowerReport
from govflow.oversight.services import hold_statement
from govflow.oversight.whistleblower import report_file, report_message_add
from govflow.trust.keys import public_key_id, public_key_to_base64

REGULATOR = "rita"
REPORT_SUBJECT = "demo: an eval run left out of the internal-evaluation report"


def build_oversight_demo(world, *, private_key: Callable) -> None:
    rita = get_user_model().objects.get(username=REGULATOR)
    private, world.key_files[REGULATOR] = private_key(REGULATOR)
    if not SigningKey.objects.filter(key_id=public_key_id(private.public_key())).exists():
        key_register(user=rita, public_key=public_key_to_base64(private.public_key()),
                     name="demo key")
    release = world.releases["in_audit"]
    if not RegulatoryHold.objects.filter(release=release).exists():
        reason = "demo: hold while a reported concern about the eval runs is looked into"
        envelope = signed(hold_statement(release=release, action="place", reason=reason),
                           private)
        hold = act_perform(HOLD_PLACE, envelope=envelope, actor=rita)
        envelope = signed(hold_statement(release=release, action="lift",
                                          reason="demo: the concern was answered", hold=hold),
                           private)
        act_perform(HOLD_LIFT, envelope=envelope, actor=rita, target=hold.pk)
    if not WhistleblowerReport.objects.filter(subject=REPORT_SUBJECT).exists():
        report, _code = report_file(
            subject=REPORT_SUBJECT, concerning="Frontier Lab, Frontier-7",
            body="A deception eval run at high pressure was stopped and re-run until it "
                 "passed; the first run is not attached to the release. (Demo text.)")
        report_message_add(report_id=report.pk, actor=rita,
                           body="Thank you. We have placed the release on hold while we "
                                "ask the lab for every run. (Demo reply.)")
