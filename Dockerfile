# Attaché in a container. Build:  docker build -t attache .
# Run (see deploy/compose.yaml):   docker run -d -e DISCORD_TOKEN -v attache-data:/data attache
#
# The database (attache.db), its lock file, the gazetteer cache and backups live on the /data volume;
# an optional config.toml goes there too (it is read from the working directory). The process runs as
# an unprivileged user, and `attache db check` (integrity, foreign keys, schema version) is the health
# check. SIGTERM stops it cleanly (`docker stop`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ATTACHE_CACHE_DIR=/data/cache

# The code stays in /app (owned by root, read-only for the bot): migrations and seed data are read
# from /app/data.
WORKDIR /app
COPY pyproject.toml README.md config.example.toml ./
COPY bot ./bot
COPY cogs ./cogs
COPY data ./data
RUN pip install --no-compile -e . \
    && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin attache \
    && mkdir -p /data \
    && chown attache:attache /data \
    && chmod 0700 /data

USER attache
WORKDIR /data
VOLUME ["/data"]

# Until the first start has created the database the check fails; start-period covers that.
HEALTHCHECK --interval=5m --timeout=60s --start-period=3m --retries=3 CMD ["attache", "db", "check"]

ENTRYPOINT ["attache"]
CMD ["run"]
