#!/bin/bash
# The MLflow tracking server with authentication (basic-auth app): its own PostgreSQL database, artifacts on
# MinIO, the admin account from .env (MLflow's built-in default password is never left in place).
set -euo pipefail
store="postgresql+psycopg2://mlflow:${MLFLOW_DB_PASSWORD}@postgres:5432/mlflow"
config=/tmp/basic_auth.ini
cat > "$config" <<INI
[mlflow]
default_permission = READ
database_uri = ${store}
admin_username = ${MLFLOW_ADMIN_USER}
admin_password = ${MLFLOW_ADMIN_PASSWORD}
authorization_function = mlflow.server.auth:authenticate_request_basic_auth
INI
export MLFLOW_AUTH_CONFIG_PATH="$config"
exec mlflow server --app-name basic-auth --host 0.0.0.0 --port 5000 \
  --backend-store-uri "$store" --default-artifact-root s3://mlflow/artifacts --allowed-hosts "mlflow:5000,localhost:5000,127.0.0.1:5000"
