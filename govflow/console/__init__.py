"""The oversight console: server-rendered pages over the same selectors, services and
access checks as the REST API (NetBox's rule: one core, two faces)."""
