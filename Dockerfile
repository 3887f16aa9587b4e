# syntax=docker/dockerfile:1
# dev: every dependency and the sources (docker/compose.yaml runs the demo loader from it).
# The base image is pinned to the exact Node release the project develops on (package.json's node).
FROM node:24.21.0-slim AS dev
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY cds-hooks ./cds-hooks

# build: compile, then drop the dev dependencies.
FROM dev AS build
RUN npm run build && npm prune --omit=dev

# runtime: the same Node major as development (24 LTS), only what the service needs, as a non-root user.
FROM node:24.21.0-slim
LABEL org.opencontainers.image.title="vitamin-cds-hooks" \
      org.opencontainers.image.description="CDS Hooks 2.0 service for missed vitamin D and B12 problems in spine and pain patients" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
COPY --chown=node:node cds-hooks ./cds-hooks
# Served as /openapi.json and /docs.
COPY --chown=node:node openapi.yaml ./
# The embedded feedback store (SQLite) and its patient-hash key live here: mount a volume to keep them.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME ["/app/data"]
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node, not npm: npm does not forward SIGTERM, and close-with-grace needs it.
CMD ["node", "dist/server.js"]
