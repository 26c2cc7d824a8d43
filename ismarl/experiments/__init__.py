"""The experiments by name: presets per scale (``presets``), Step-4 starting pairs from a warm-up
(``warmup``) and the chain that trains them in order (``reproduce``)."""
