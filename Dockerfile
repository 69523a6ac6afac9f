# One image for every app; each container runs one of them:
#   node dist/apps/<api|ingest|filter-router|websocket-gateway>/src/main.js
# and the migration step (node dist/scripts/migrate.js) and the CLI (node bin/event-service.js) too.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json nest-cli.json ./
COPY apps apps
COPY libs libs
COPY scripts scripts
COPY bench bench
COPY test test
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production LOG_FORMAT=json LISTEN_HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY bin bin
USER node
CMD ["node", "dist/apps/api/src/main.js"]
