"""The run layer, the same for every training engine: the run directory (``layout``), checkpoints
(``checkpoint``), reading runs (``store``), metrics (``metrics``), the training driver (``train``),
evaluation (``evaluate``) and provenance (``provenance``)."""
