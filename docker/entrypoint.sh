#!/bin/sh
# Entry point of every service image (Dockerfile, build arg SERVICE). Applies the service's
# committed migrations with the project's own migrator (never `prisma migrate dev`), then
# replaces this shell with the service so it receives SIGTERM directly.
set -eu
cd /app
if [ -f "$SERVICE/dist/src/migrate.js" ]; then
  node "$SERVICE/dist/src/migrate.js"
fi
exec node "$SERVICE/dist/src/main.js"
