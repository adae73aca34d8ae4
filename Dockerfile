# pidone as a container's init. Two stages:
#   build: compiles the addon (node-gyp) and the TypeScript, then lays out
#          /opt/pidone with scripts/stage-image.js (the container tests run the same
#          script, so what they test is what this image holds);
#   final: the base image (Node) + /opt/pidone: package.json, bin/, dist/, the built
#          pidone.node and the production dependencies. No compiler, no sources.
#
#   docker build -t pidone .
#   docker build --build-arg BASE_IMAGE=my-registry.local/node:22-bookworm-slim -t pidone .
#   docker run --rm pidone                        # the example CMD below
#   docker run --rm pidone node server.js         # your command, with pidone as PID 1
#
# BASE_IMAGE: any glibc or musl image with Node >= 20.19 and a POSIX sh (the build
# stage installs python3, make and g++ with apt-get or apk). It also works from a
# local base (a name your daemon already has) with no network but npm's registry.
ARG BASE_IMAGE=node:22-bookworm-slim

FROM ${BASE_IMAGE} AS build
# The addon's toolchain. Versions follow the base image's release.
# hadolint ignore=DL3008,DL3018
RUN if command -v apt-get >/dev/null; then \
      apt-get update \
      && apt-get install -y --no-install-recommends python3 make g++ \
      && rm -rf /var/lib/apt/lists/*; \
    else \
      apk add --no-cache python3 make g++; \
    fi
WORKDIR /src
# Dependencies first, so that a source change does not re-download them.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY binding.gyp tsconfig.json tsconfig.build.json ./
COPY native/ native/
COPY scripts/ scripts/
COPY src/ src/
COPY bin/ bin/
# node-gyp uses the base image's own Node headers when it has them (no download).
RUN nodedir="$(dirname "$(dirname "$(command -v node)")")"; \
    if [ -f "$nodedir/include/node/node_api.h" ]; then export npm_config_nodedir="$nodedir"; fi; \
    npm run install && npm run build && node scripts/stage-image.js /stage/opt/pidone

FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="pidone" \
      org.opencontainers.image.description="A container init: PID 1 that forwards signals, reaps zombies and shuts down what remains" \
      org.opencontainers.image.licenses="MIT"
COPY --from=build /stage/opt/pidone /opt/pidone
# `pidone` on PATH; `pidone --version` proves the addon loads on this base.
RUN ln -s /opt/pidone/bin/pidone /usr/local/bin/pidone && pidone --version
# pidone is PID 1; everything after `--` is the command (CMD, or docker run's args).
# Flags go before `--`, e.g. ENTRYPOINT ["pidone", "--grace", "20s", "--"].
ENTRYPOINT ["pidone", "--"]
CMD ["node", "-e", "process.on('SIGTERM', () => process.exit(0)); console.log('pidone is PID 1 and runs this; docker stop ends it at once'); setInterval(() => {}, 1 << 30);"]
