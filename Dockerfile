# Sluice's image: built in one stage (the native addons need a compiler), run in a slim one as
# the unprivileged `node` user, the WAL and the embedded S3 on a volume. Build:
#   docker build -t sluice .            (or podman build)
# BUILD_IMAGE / RUNTIME_IMAGE let a machine without a registry build from local base images
# (scripts/container-test.sh does). COMMIT names the build in --version and sluice_build_info.
ARG BUILD_IMAGE=node:20-bookworm
ARG RUNTIME_IMAGE=node:20-bookworm-slim

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY scripts ./scripts
ARG COMMIT=unknown
RUN SLUICE_COMMIT=${COMMIT} npm run build && npm prune --omit=dev --no-audit --no-fund

FROM ${RUNTIME_IMAGE}
ENV NODE_ENV=production \
    SLUICE_WAL_DIR=/var/lib/sluice/wal \
    SLUICE_EMBEDDED_S3_DIR=/var/lib/sluice/s3 \
    SLUICE_ADMIN_INTERFACE=0.0.0.0
WORKDIR /opt/sluice
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
RUN mkdir -p /var/lib/sluice && chown node:node /var/lib/sluice
USER node
VOLUME /var/lib/sluice
# 8080: trackers. 9090: metrics, /health detail, /status (publish it to your network only).
EXPOSE 8080 9090
# The public /health: 503 while starting, draining or when the WAL refuses events.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD ["node", "-e", "require('http').get({host:'127.0.0.1',port:process.env.SLUICE_PORT||8080,path:'/health'},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"]
# SIGTERM drains (pre-termination period, in-flight requests, seal, ship): give it
# preTerminationPeriod + responseHeaderTimeout + ship.drainTimeoutMs, 70 s by default.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/server.js"]
