# The base image the Docker suite builds pidone's Dockerfile on (BASE_IMAGE), for a
# machine with no registry to pull node:22-bookworm-slim from: a Debian minbase root
# filesystem (mmdebstrap, imported as ROOTFS) plus this machine's own Node, laid out
# as the official node images lay it out, so the Dockerfile finds what it expects:
#   /usr/local/bin/node, npm and npx      on PATH
#   /usr/local/include/node               the headers node-gyp builds the addon against
#   /usr/local/etc/npmrc                  npm's global config: trust the host's CAs
# scripts/docker-images.sh makes the build context (it copies those files in).
ARG ROOTFS
FROM ${ROOTFS}
COPY node /usr/local/bin/node
COPY node_modules/ /usr/local/lib/node_modules/
COPY include/ /usr/local/include/node/
# minbase has no ca-certificates; npm inside a build must trust what the host trusts.
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
    && mkdir -p /usr/local/etc \
    && echo 'cafile=/etc/ssl/certs/ca-certificates.crt' > /usr/local/etc/npmrc \
    && node --version && npm --version
CMD ["node"]
