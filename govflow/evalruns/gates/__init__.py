"""Gate kinds that read eval evidence: `deception_eval` (govflow's own runs) and
`inspect_log` (an Inspect log uploaded as evidence)."""
