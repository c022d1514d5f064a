# The registry API image (deployment; tests run against a local PostgreSQL instead).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY registry ./registry
COPY linkage ./linkage
COPY api ./api
COPY migrations ./migrations
# editable install: migrations/ and alembic.ini are read from /app at run time
RUN pip install --no-cache-dir -e . && useradd --system registry
USER registry
EXPOSE 8000
CMD ["registry", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
