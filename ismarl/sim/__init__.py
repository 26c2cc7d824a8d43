"""The simulation core: the game's round transition and its parameters (``core``), a gymnax-style
environment for teaching (``env``), and Monte Carlo play of memory-1 strategies (``simulate``)."""
