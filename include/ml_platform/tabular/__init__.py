"""Tabular models (churn, fraud): config, features, training, metrics, plots and the pipeline steps."""
