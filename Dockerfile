# Safe Abroad production image: slim, non-root, catalogs checked at build, `serve` by default.
# The base image is named by an exact tag; pin it by digest where you build (see README,
# "Deploying"): docker buildx imagetools inspect python:3.11.14-slim-bookworm
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm
FROM ${PYTHON_IMAGE} AS base

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 HOST=0.0.0.0 PORT=8000 DATA_DIR=/data

WORKDIR /app
# Exactly the reviewed dependencies, each checked against its hash (requirements.lock,
# made by `make lock`); then the bot itself, with nothing else pulled in.
COPY requirements.lock ./
RUN pip install --require-hashes --only-binary=:all: -r requirements.lock
COPY pyproject.toml README.md babel.cfg ./
COPY bot ./bot
COPY dialogs ./dialogs
COPY locales ./locales
RUN pip install --no-deps --no-build-isolation '.[postgres]' \
    && useradd --system --uid 10001 --home /app safeabroad \
    && mkdir -p /data && chown safeabroad /data && chmod 700 /data \
    # Compile-check the catalogs and flows at build: a broken translation fails the build.
    && python -m bot validate

USER safeabroad
EXPOSE 8000
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os,urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"8000\")}/readyz', timeout=4)" || exit 1
CMD ["python", "-m", "bot", "serve"]
