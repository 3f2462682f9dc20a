"""What the "ML Ops" view in the Airflow UI shows, built from the records the pipelines leave and the registry.

Plain data and server-side charts, no Airflow and no HTML: the plugin in `plugins/` only presents them, so
each page's facts are unit-tested here against records written by the real pipeline steps.
"""
