"""The steps of every pipeline: one function per Airflow task, taking (config, settings, run context, upstream
records) and returning a small record. I/O happens here; the libraries below take data and return results."""
