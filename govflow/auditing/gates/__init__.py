"""Gate kinds of third-party auditing, one module each (listed in GOVFLOW_GATE_KINDS)."""
