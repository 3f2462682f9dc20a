#!/bin/bash
# PostgreSQL's first start (docker-entrypoint-initdb.d): MLflow's own user and database beside Airflow's.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v mlflow_password="$MLFLOW_DB_PASSWORD" <<'SQL'
CREATE USER mlflow WITH PASSWORD :'mlflow_password';
CREATE DATABASE mlflow OWNER mlflow;
SQL
