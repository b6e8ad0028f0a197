# Safe Abroad production image: slim, non-root, catalogs checked at build, `serve` by default.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 HOST=0.0.0.0 PORT=8000 DATA_DIR=/data

WORKDIR /app
COPY pyproject.toml README.md babel.cfg ./
COPY bot ./bot
COPY dialogs ./dialogs
COPY locales ./locales
RUN pip install '.[postgres]' \
    && useradd --system --uid 10001 --home /app safeabroad \
    && mkdir -p /data && chown safeabroad /data \
    # Compile-check the catalogs and flows at build: a broken translation fails the build.
    && python -m bot validate

USER safeabroad
EXPOSE 8000
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os,urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"8000\")}/readyz', timeout=4)" || exit 1
CMD ["python", "-m", "bot", "serve"]
