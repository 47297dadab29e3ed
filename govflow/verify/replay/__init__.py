"""Replaying the log's decisions: the policy's state machine driven by logged events.

- `machine`: each release's stage and status, holds, and the moves the policy allows
  (pure: the offline verifier and `manage.py audit reconcile` both run it).
- `facts`: what gates rest on, collected from logged events (evidence, sanctions,
  system manifests) as the replay goes.
- `gates`: per gate kind, a re-derivation of a logged gate result from those facts.
"""
