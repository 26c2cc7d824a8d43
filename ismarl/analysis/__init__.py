"""Analysis for the book, read-only over runs: summaries and tables (``summary``), plots
(``figures``), widgets (``widgets``) and replay of training snapshots (``replay``)."""
