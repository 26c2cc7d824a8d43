"""Training: typed experiment configs (:mod:`.configs`) and the A2C engine (:mod:`.a2c`)."""
