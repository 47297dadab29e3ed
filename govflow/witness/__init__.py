"""A transparency-log witness (C2SP tlog-witness, tlog-cosignature v1), free of Django.

Run by a party the log operator does not control (the regulator, an auditor firm, a third
party), it keeps, per log, the latest checkpoint it cosigned and cosigns a new one only
when a consistency proof shows the new tree extends it. A lab that rewrites or forks its
log after a witnessed checkpoint cannot get that witness to cosign the new history, and a
verifier that demands a quorum of cosignatures refuses it.

``python -m govflow.witness --help`` for the commands.
"""
