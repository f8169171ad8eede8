"""What the notebooks show: widgets, plots, the shipped models, the results table, diagnostics."""
