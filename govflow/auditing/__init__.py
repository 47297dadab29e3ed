"""Certified third-party auditing: certificates, independent assignment, signed findings
and audit conclusions. `statements` is Django-free (the client imports it); keep this
package's __init__ free of imports."""
