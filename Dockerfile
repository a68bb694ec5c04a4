# syntax=docker/dockerfile:1
# datahub: the same package the README installs, built as a wheel, run by a non-root user.

FROM python:3.11-slim AS build
WORKDIR /src
RUN pip install --no-cache-dir build
COPY pyproject.toml README.md alembic.ini ./
COPY src ./src
COPY connectors ./connectors
COPY licenses ./licenses
COPY migrations ./migrations
RUN python -m build --wheel --outdir /dist

FROM python:3.11-slim
# One BLAS thread per process: API workers already use every core, and numpy's threads
# (statistical-secrecy checks) would only compete with them.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 OPENBLAS_NUM_THREADS=1 \
    DATAHUB_DATABASE_URL=sqlite:////data/datahub.db \
    DATAHUB_STORAGE_URL=file:///data/files \
    DATAHUB_AUDIT_KEY_FILE=/keys/audit-key.pem \
    DATAHUB_LOG_JSON=true
RUN apt-get update && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 datahub \
    && mkdir /data /keys && chown datahub /data /keys
COPY --from=build /dist/*.whl /tmp/
RUN pip install --no-cache-dir /tmp/*.whl && rm /tmp/*.whl
USER datahub
WORKDIR /home/datahub
# /keys holds the audit seals' signing key: keep it apart from the database and its backups.
VOLUME ["/data", "/keys"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8000/api/v1/health || exit 1
# `datahub serve` applies pending migrations (under a lock, safe with several replicas) first.
CMD ["datahub", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
