# One image for every role: `docker run stam <role>`.
# The operator console is built in a first stage (Vite is a development dependency); the image gets the
# built files (console/dist, served by the gateway) and only the production dependencies.
FROM node:20-bookworm-slim AS console
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY console ./console
RUN node --import tsx console/build.ts --force

FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY . .
COPY --from=console /app/console/dist ./console/dist
USER node
ENTRYPOINT ["node", "bin/stam.mjs"]
