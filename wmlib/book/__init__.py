"""What the notebooks show: widgets, plots, the shipped models, the results table, diagnostics."""
__all__: list[str] = []  # a namespace: import its modules (widgets, plots, pretrained, results, diagnose)
