"""Offline verification of a govflow bundle: `python -m govflow.verify BUNDLE`.

Needs neither the database nor the server; only the standard library, `cryptography`
and PyYAML (to read the policy text carried in the bundle).
"""
