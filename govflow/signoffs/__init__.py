"""Signed sign-offs. `tally` and `statement` are Django-free (the client and the
offline verifier import them); keep this package's __init__ free of imports."""
