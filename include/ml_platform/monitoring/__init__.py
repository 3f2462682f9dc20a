"""Drift of model inputs, scores and labels (Evidently), and drift over time; pure computations on frames."""
