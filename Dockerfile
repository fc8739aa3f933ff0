# syntax=docker/dockerfile:1
# dockmedic's gateway, worker and watcher: one image, the command picks the role
# (`docker run dockmedic gateway|worker|watcher`). See docker-compose.yml for the wiring.

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/npm-install.sh ./scripts/
# npm ci (or npm install from the unchanged lock, see the script).
RUN scripts/npm-install.sh
COPY tsconfig.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
RUN npx tsc -p tsconfig.json && npm prune --omit=dev --no-audit --no-fund --loglevel=error

FROM node:20-slim
ENV NODE_ENV=production \
    DOCKMEDIC_STATE_DIR=/var/lib/dockmedic
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Containers of the dockmedic stack are never remediated, however they are started.
LABEL dockmedic.stack="true"
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["--help"]
