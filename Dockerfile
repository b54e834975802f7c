# syntax=docker/dockerfile:1.7
# One multi-target Dockerfile for every SearchOp deployable; build one with `--target <name>`:
#   collector, feature-processor, compactor, ranker, simulator, provision (Node services and jobs)
#   trainer (the weekly job: Node + the pinned Python environment of trainer/python)
# Every target: Node 24 on Debian slim, production dependencies only (stack/bin/install-production.sh,
# the same script the deploy tests run), TypeScript run directly by Node, a numeric non-root user
# (Kubernetes' runAsNonRoot can verify it), and a HEALTHCHECK on the service's /health (batch jobs
# declare HEALTHCHECK NONE: they have no server to ask).
# Validated without a Docker engine by stack/src/deploy-check (npm run check:deploy).

# Keep in step with .nvmrc (the check fails when they differ).
ARG NODE_VERSION=24.21.0

FROM node:${NODE_VERSION}-bookworm-slim AS base
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps
WORKDIR /app

# Production dependencies from the lockfile; the workspace manifests are enough for npm ci.
FROM base AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends patch \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
COPY patches/ patches/
COPY schemas/package.json schemas/
COPY runtime/package.json runtime/
COPY stack/package.json stack/
COPY producers/package.json producers/
COPY stream-processors/package.json stream-processors/
COPY ranker/package.json ranker/
COPY trainer/package.json trainer/
COPY stack/bin/install-production.sh stack/bin/
RUN --mount=type=cache,target=/root/.npm sh stack/bin/install-production.sh

# The application: production node_modules (workspace links included) and the sources of the
# workspaces the services import. Tests are left out by .dockerignore.
FROM base AS app
COPY --from=deps /app/node_modules/ node_modules/
COPY package.json package-lock.json ./
COPY schemas/ schemas/
COPY runtime/ runtime/
COPY stack/package.json stack/
COPY producers/ producers/
COPY stream-processors/ stream-processors/
COPY ranker/ ranker/
COPY trainer/package.json trainer/
COPY trainer/src/ trainer/src/
COPY trainer/config/ trainer/config/
# Mount points of the offline store and the model registry, owned by the service user so that a fresh
# Docker volume mounted there inherits the ownership.
RUN mkdir -p /data/offline-store /data/model-registry && chown -R 1000:1000 /data
# node:*-slim has user node = 1000:1000; numeric so that runAsNonRoot can check it.
USER 1000:1000

FROM app AS collector
ENV COLLECTOR_HOST=0.0.0.0 \
    COLLECTOR_PORT=8090
EXPOSE 8090
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.COLLECTOR_PORT||8090)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "producers/src/collector/main.ts"]

FROM app AS feature-processor
ENV METRICS_HOST=0.0.0.0 \
    METRICS_PORT=9465
EXPOSE 9465
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.METRICS_PORT||9465)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "stream-processors/src/features/main.ts"]

FROM app AS compactor
ENV METRICS_HOST=0.0.0.0 \
    METRICS_PORT=9464 \
    OFFLINE_STORE_ROOT=/data/offline-store
EXPOSE 9464
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.METRICS_PORT||9464)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "stream-processors/src/compactor/main.ts"]

FROM app AS ranker
ENV RANKER_HOST=0.0.0.0 \
    RANKER_PORT=8080 \
    MODEL_REGISTRY_ROOT=/data/model-registry
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.RANKER_PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "ranker/src/main.ts"]

# One-shot jobs.
FROM app AS provision
HEALTHCHECK NONE
CMD ["node", "schemas/src/provision-cli.ts"]

FROM app AS simulator
HEALTHCHECK NONE
ENTRYPOINT ["node", "producers/src/simulator/main.ts"]
CMD ["--help"]

# The trainer: Debian's Python 3.11 and the venv that trainer/python/setup-venv.sh builds from the pinned
# requirements.txt. The venv is built here, so the trainer's own setup-venv.sh call at run time finds its
# stamp matching and returns at once (it needs no network and no write access).
FROM app AS trainer
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv libgomp1 \
 && rm -rf /var/lib/apt/lists/*
COPY trainer/python/ trainer/python/
RUN --mount=type=cache,target=/root/.cache/pip bash trainer/python/setup-venv.sh /opt/venv
ENV TRAINER_VENV=/opt/venv \
    OFFLINE_STORE_ROOT=/data/offline-store \
    MODEL_REGISTRY_ROOT=/data/model-registry
USER 1000:1000
HEALTHCHECK NONE
ENTRYPOINT ["node", "trainer/src/cli.ts"]
CMD ["run"]
