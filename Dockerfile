# syntax=docker/dockerfile:1
# One image for the three Binôme services and the tools run beside them; the command picks:
#   binome-pairing serve | binome-sessions migrate | binome-db provision | binome-hr-import ...
# Both stages must share the same Python: the virtual environment built in the first stage
# links to the interpreter of its base image.
#
# The base image is pinned by digest: a tag moves with every rebuild upstream, a digest does
# not. This one is python:3.11-slim (Python 3.11.15 on Debian trixie, multi-platform index)
# as recorded by Docker's official-images bookkeeping (docker-library/repo-info,
# repos/python/remote/3.11-slim.md). To move it, see "Image" under "Secured transport and
# provisioning as code" in docs/operations.md.
ARG PYTHON_IMAGE=python:3.11-slim@sha256:90744cff8f32887f075c47d747a173ff333e9e98801667af93c357fa9f5e28ff

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_INPUT=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Every dependency, and the build backend, exactly as locked: versions and hashes
# (requirements.lock, produced by pip-compile from pyproject.toml). Nothing else is resolved.
COPY requirements.lock ./
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
COPY integrations ./integrations
# A wheel then a non-editable install: the runtime stage gets only site-packages, no sources.
# pip compiles the .pyc files here, so the read-only runtime never needs to write them.
# The development package (devstack/: the local stack, the demo, the generators of docs and
# manifests, the cohort generator, the notification previews and SMTP sink) is not copied, so
# its commands go too; the build backend leaves once the wheel is built.
RUN pip wheel --wheel-dir /wheels --no-deps --no-build-isolation . \
    && pip install --no-deps /wheels/binome-*.whl \
    && rm /opt/venv/bin/binome-stack /opt/venv/bin/binome-docs /opt/venv/bin/binome-manifests \
          /opt/venv/bin/binome-mail \
    && pip uninstall --yes setuptools wheel


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
