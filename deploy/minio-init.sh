#!/bin/sh
# MinIO's buckets, and the platform's own user: read-write on its buckets, never the root credentials.
set -eu
mc alias set local http://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"
for bucket in lake reports mlflow raw; do mc mb --ignore-existing "local/$bucket"; done
cat > /tmp/platform-policy.json <<'JSON'
{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*"],
  "Resource": ["arn:aws:s3:::lake", "arn:aws:s3:::lake/*", "arn:aws:s3:::reports", "arn:aws:s3:::reports/*",
               "arn:aws:s3:::mlflow", "arn:aws:s3:::mlflow/*", "arn:aws:s3:::raw", "arn:aws:s3:::raw/*"]}]}
JSON
mc admin policy create local ml-platform /tmp/platform-policy.json || true
mc admin user add local "$MINIO_PLATFORM_USER" "$MINIO_PLATFORM_PASSWORD"
# Attaching twice fails; anything else must stop the init (a user without rights fails every task later).
if ! mc admin policy entities local --user "$MINIO_PLATFORM_USER" | grep -q ml-platform; then
  mc admin policy attach local ml-platform --user "$MINIO_PLATFORM_USER"
fi
