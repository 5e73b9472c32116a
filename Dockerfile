# syntax=docker/dockerfile:1
# One image recipe for every service: docker build --build-arg SERVICE=order-service .
# SERVICE is the workspace folder: product-service | order-service | notification-service | gateway.

ARG NODE_IMAGE=node:24-slim

# ---- build: all dependencies, Kysely table types generated, TypeScript compiled ------------
FROM ${NODE_IMAGE} AS build
ARG SERVICE
RUN test -n "$SERVICE" || (echo "build arg SERVICE is required" >&2 && exit 1)
WORKDIR /app
ENV TURBO_TELEMETRY_DISABLED=1 CHECKPOINT_DISABLE=1 PRISMA_HIDE_UPDATE_MESSAGE=1
COPY package.json package-lock.json turbo.json tsconfig.base.json tsconfig.json ./
COPY contracts/package.json contracts/
COPY platform/package.json platform/
COPY product-service/package.json product-service/
COPY order-service/package.json order-service/
COPY notification-service/package.json notification-service/
COPY gateway/package.json gateway/
COPY e2e/package.json e2e/
RUN npm ci --no-audit --no-fund
COPY . .
# `generate` (prisma generate → Kysely types, offline) runs before `build` through turbo's task graph; tsc -b
# builds the referenced contracts and platform projects with it.
RUN npx turbo run build --filter="@shop/${SERVICE}" --output-logs=errors-only \
 && test -f "${SERVICE}/dist/src/main.js" \
 && mkdir -p "${SERVICE}/prisma/migrations"

# ---- prod-deps: production dependencies only, no install scripts ---------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY contracts/package.json contracts/
COPY platform/package.json platform/
COPY product-service/package.json product-service/
COPY order-service/package.json order-service/
COPY notification-service/package.json notification-service/
COPY gateway/package.json gateway/
COPY e2e/package.json e2e/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime: node, prod deps, compiled code and the committed migrations ------------------
FROM ${NODE_IMAGE} AS runtime
ARG SERVICE
# Production: a service refuses to start without a real JWT_SECRET (32+ characters) or JWT_JWKS_URL.
ENV NODE_ENV=production SERVICE=${SERVICE}
WORKDIR /app
COPY --from=prod-deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/contracts/package.json ./contracts/
COPY --from=build --chown=node:node /app/contracts/dist/src ./contracts/dist/src
# The generated OpenAPI document, which the gateway serves at /openapi.json (readOpenApiDocument).
COPY --from=build --chown=node:node /app/contracts/openapi.json ./contracts/
COPY --from=build --chown=node:node /app/platform/package.json ./platform/
COPY --from=build --chown=node:node /app/platform/dist/src ./platform/dist/src
COPY --from=build --chown=node:node /app/${SERVICE}/package.json ./${SERVICE}/
COPY --from=build --chown=node:node /app/${SERVICE}/dist/src ./${SERVICE}/dist/src
# The migrator finds prisma/migrations next to the package.json (the gateway's is empty).
COPY --from=build --chown=node:node /app/${SERVICE}/prisma/migrations ./${SERVICE}/prisma/migrations
COPY --chmod=755 docker/entrypoint.sh /usr/local/bin/shop-entrypoint
USER node
ENTRYPOINT ["shop-entrypoint"]
