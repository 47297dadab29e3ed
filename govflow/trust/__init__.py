"""Trust primitives: Merkle tree, signed notes, DSSE, in-toto statements, canonical JSON, keys.

Each submodule depends only on the standard library and ``cryptography`` so that the server, the
stdlib-only client and the offline verifier share one implementation. Import submodules
explicitly (``from govflow.trust import merkle``); this package imports nothing on purpose.
"""
