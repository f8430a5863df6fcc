# Guardian's container image, used by compose/docker-compose.yml (see compose/README.md).
#
# builder: builds the wheel exactly as `pip wheel --no-deps . -w …` does on a developer's
#          machine (tests/deploy/test_deploy_dockerfile.py builds the same wheel and checks that
#          it carries the Alembic migrations and py.typed).
# runtime: installs that wheel with its dependencies, adds the policy folder and the audit
#          index design, and runs `guardian serve` as an unprivileged user outside demo mode.
#          GUARDIAN_SECRET_KEY and GUARDIAN_AUDIT_SIGNING_KEY come from the deployment
#          (compose/.env), never from the image.

FROM python:3.11-slim-bookworm AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-deps . -w /dist

FROM python:3.11-slim-bookworm AS runtime
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN groupadd --system --gid 10001 guardian \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/guardian \
        --no-create-home --shell /usr/sbin/nologin guardian \
 && mkdir -p /var/lib/guardian /var/lib/guardian-keys /etc/guardian \
 && chown 10001:10001 /var/lib/guardian /var/lib/guardian-keys \
 && chmod 0700 /var/lib/guardian /var/lib/guardian-keys
COPY --from=builder /dist/ /tmp/dist/
RUN pip install /tmp/dist/guardian-*.whl && rm -rf /tmp/dist
WORKDIR /opt/guardian
COPY policies ./policies
COPY audit ./audit
ENV GUARDIAN_DEMO=false \
    GUARDIAN_HOST=0.0.0.0 \
    GUARDIAN_PORT=8000 \
    GUARDIAN_POLICY_DIR=/opt/guardian/policies \
    GUARDIAN_AUDIT_DIR=/opt/guardian/audit \
    GUARDIAN_DATA_DIR=/var/lib/guardian \
    GUARDIAN_LOG_FORMAT=json
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/v1/health', timeout=4)"]
CMD ["guardian", "serve", "--host", "0.0.0.0"]
