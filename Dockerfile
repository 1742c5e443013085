# syntax=docker/dockerfile:1
# One image for the three Binôme services and the provisioning job; the command picks which:
#   binome-pairing serve | binome-sessions migrate | binome-db provision | ...
# Both stages must share the same Python: the virtual environment built in the first stage
# links to the interpreter of its base image.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_INPUT=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
COPY devstack ./devstack
# A wheel then a non-editable install: the runtime stage gets only site-packages, no sources.
# pip compiles the .pyc files here, so the read-only runtime never needs to write them.
RUN --mount=type=cache,target=/root/.cache/pip \
    pip wheel --wheel-dir /wheels --no-deps . \
    && pip install /wheels/binome-*.whl


FROM ${PYTHON_IMAGE} AS runtime
ARG BINOME_UID=10001
LABEL org.opencontainers.image.title="binome" \
      org.opencontainers.image.description="Binôme reverse-mentoring services: pairing, sessions, notifications"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    BINOME_HTTP_HOST=0.0.0.0
RUN groupadd --system --gid ${BINOME_UID} binome \
    && useradd --system --uid ${BINOME_UID} --gid binome --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin binome
COPY --from=builder /opt/venv /opt/venv
# Numeric user so that Kubernetes can verify runAsNonRoot without resolving names.
USER 10001:10001
WORKDIR /tmp
EXPOSE 8001 8002 8003
CMD ["binome-pairing", "serve"]
