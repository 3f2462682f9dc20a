# Image for docker-compose (and Astro-style deployments): Airflow 3.3.2 plus this repo's pinned stack.
FROM apache/airflow:3.3.2-python3.11
USER root
RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*
USER airflow
COPY --chown=airflow:root requirements.txt pyproject.toml /opt/ml-platform/
COPY --chown=airflow:root include /opt/ml-platform/include
RUN pip install --no-cache-dir -r /opt/ml-platform/requirements.txt \
 && pip install --no-cache-dir --no-deps -e /opt/ml-platform
