# flamebill service image: `docker compose up` builds it (see docker-compose.yml).
# Node 26 (Active LTS, Debian bookworm): the Node version the project is built and tested on (.nvmrc).

FROM node:26-bookworm-slim AS build
WORKDIR /app
# Everything the build needs (see .dockerignore): `npm ci` runs the `prepare` script, which compiles
# TypeScript to dist/, so the sources must be present before it.
COPY . .
RUN npm ci && npm prune --omit=dev

FROM node:26-bookworm-slim
ENV NODE_ENV=production \
    PORT=3000 \
    FLAMEBILL_DATA_DIR=/data \
    FLAMEBILL_CATALOG_DIR=/app/catalog
WORKDIR /app
COPY --from=build /app /app
# Local state (and the embedded PostgreSQL when DATABASE_URL is not set) lives in /data.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "bin/flamebill.js", "serve"]
