"""Gates: the requirements a release must meet to enter a stage.

A gate *kind* is one module exposing ``KIND`` (a `GateKind`): its parameter schema
and its evaluation. The engine (`engine.py`) and the policy validator find kinds
through `registry.py`, which reads the module list from settings; neither knows any
kind by name (CONVENTIONS rule 7).
"""
