# Workq: one image for `workq migrate`, `workq auth`, `workq jobs` and `workq executor`.
# Builder: build the wheel and install it with its dependencies into a venv.
# Final: python:3.11-slim with only that venv, run as a non-root user; no build
# tools, no sources, no secrets (they come from the environment at run time).

FROM python:3.11-slim-bookworm AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml setup.cfg README.md ./
COPY workq_core ./workq_core
COPY entrypoints ./entrypoints
COPY plugins ./plugins
RUN /opt/venv/bin/pip wheel --no-deps --wheel-dir /wheels . \
    && /opt/venv/bin/pip install /wheels/*.whl

FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    WORKQ_CORE_DATA_DIR=/var/lib/workq \
    WORKQ_CORE_LOG_FORMAT=json
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/workq workq \
    && install -d -o workq -g workq -m 0700 /var/lib/workq
COPY --from=builder /opt/venv /opt/venv
USER workq
WORKDIR /home/workq
EXPOSE 3000 3001 5000
ENTRYPOINT ["workq"]
CMD ["--help"]
