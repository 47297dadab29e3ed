"""`python -m govflow.client`: the command-line client people sign with.

It needs only the standard library and `cryptography` (through `govflow.trust`), so a
signer can run it on a machine that has nothing else of govflow installed, and the
private key never leaves that machine. Subcommands live in one module per area
(`signoffs.py` for keys and sign-offs); a later area adds its module to
`cli.COMMAND_MODULES`.
"""
