"""A SIMULATED agent served over the OpenAI chat completions protocol, for testing the pipeline.

Its numbers follow a profile file and say nothing about any real model.
"""

from evals.simulator.model import MODEL_PREFIX, SimulatedModel
from evals.simulator.profiles import Profile, list_profiles, load_profile

__all__ = ["MODEL_PREFIX", "Profile", "SimulatedModel", "list_profiles", "load_profile"]
