"""ml_platform: the domain logic of the nightly MLOps / LLMOps loop. Plain Python; never imports Airflow.

Keep this file free of imports: DAG files import small pieces of the package at parse time.
"""
