"""govflow's deception-eval library: scenarios, runner, graders, statistics, simulator.

A plain library: no Django imports anywhere in this package (CONVENTIONS rule 8).
"""

__version__ = "0.1.0"
