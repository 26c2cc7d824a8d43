"""ismarl: cooperation between self-interested learning agents in the iterated prisoner's dilemma."""

__version__ = "0.1.0"
