#!/usr/bin/env bash
# Builds the images the Docker suite (test/docker/) runs, with the engine DOCKER_HOST
# points at (scripts/docker-engine.sh start DIR; eval "$(scripts/docker-engine.sh env DIR)"):
#
#   pidone-rootfs:KEY   a Debian bookworm minbase root filesystem (mmdebstrap), imported
#   pidone-base:KEY     that + this machine's node, npm and Node headers
#                       (test/docker/images/base.Dockerfile)
#   pidone:test         the repository's Dockerfile with BASE_IMAGE=pidone-base:KEY
#
# There is no registry to pull a base image from, so the root filesystem is made from
# the package source apt uses here (/etc/apt/sources.list.d/debian.sources). It takes
# about a minute, so the tarball and the base image are kept in PIDONE_CI_CACHE
# (default /var/cache/pidone-ci) under a key of everything they are made from: a
# change of the sources, of node or of base.Dockerfile makes new ones.
set -euo pipefail
cd "$(dirname "$0")/.."

cache=${PIDONE_CI_CACHE:-/var/cache/pidone-ci}
sources=${PIDONE_CI_SOURCES:-/etc/apt/sources.list.d/debian.sources}
suite=bookworm
tag=${PIDONE_IMAGE:-pidone:test}

for tool in docker mmdebstrap sha256sum; do
  if ! command -v "$tool" >/dev/null; then
    echo "docker-images: $tool not found (Debian: apt-get install docker.io mmdebstrap)" >&2
    exit 1
  fi
done
if ! docker info >/dev/null 2>&1; then
  echo "docker-images: no Docker engine answers at ${DOCKER_HOST:-the default socket}; start one with scripts/docker-engine.sh start DIR" >&2
  exit 1
fi
[ -r "$sources" ] || { echo "docker-images: cannot read the apt sources $sources" >&2; exit 1; }
mkdir -p "$cache"

node_bin=$(command -v node)
node_prefix=$(dirname "$(dirname "$(readlink -f "$node_bin")")")
npm_dir="$node_prefix/lib/node_modules"
headers="$node_prefix/include/node"
cafile=/etc/ssl/certs/ca-certificates.crt
for f in "$npm_dir/npm" "$headers/node_api.h" "$cafile"; do
  [ -e "$f" ] || { echo "docker-images: $f not found; the base image copies it from this machine" >&2; exit 1; }
done

elapsed() { echo "$(($(date +%s) - $1))s"; }

# The root filesystem: key = the sources file, the suite and variant, mmdebstrap's version.
rootfs_key=$( { cat "$sources"; echo "$suite minbase"; mmdebstrap --version; } | sha256sum | cut -c1-16)
rootfs_tar="$cache/rootfs-$suite-minbase-$rootfs_key.tar"
if [ ! -s "$rootfs_tar" ]; then
  t=$(date +%s)
  echo "docker-images: mmdebstrap $suite (minbase) into $rootfs_tar" >&2
  partial="$cache/partial-$(basename "$rootfs_tar")"
  mmdebstrap --quiet --variant=minbase --format=tar "$suite" "$partial" - <"$sources"
  mv "$partial" "$rootfs_tar"
  # Older tarballs are of sources that no longer hold.
  find "$cache" -maxdepth 1 -name "rootfs-$suite-minbase-*.tar" ! -name "$(basename "$rootfs_tar")" -delete
  echo "docker-images: root filesystem made in $(elapsed "$t")" >&2
fi

# The base image: key = the root filesystem's key, node, npm, the CAs, base.Dockerfile.
base_key=$( {
  echo "$rootfs_key"
  sha256sum "$node_bin" "$cafile" test/docker/images/base.Dockerfile
  cat "$npm_dir/npm/package.json" "$headers/node_version.h"
} | sha256sum | cut -c1-16)
base="pidone-base:$base_key"
base_tar="$cache/base-$base_key.tar"
if ! docker image inspect "$base" >/dev/null 2>&1; then
  t=$(date +%s)
  if [ -s "$base_tar" ]; then
    docker load --quiet -i "$base_tar" >/dev/null
    echo "docker-images: $base loaded from $base_tar in $(elapsed "$t")" >&2
  else
    docker import "$rootfs_tar" "pidone-rootfs:$rootfs_key" >/dev/null
    context=$(mktemp -d)
    trap 'rm -rf "$context"' EXIT
    cp "$node_bin" "$context/node"
    cp -a "$npm_dir" "$context/node_modules"
    cp -a "$headers" "$context/include"
    cp "$cafile" "$context/ca-certificates.crt"
    docker build --quiet --network none --build-arg "ROOTFS=pidone-rootfs:$rootfs_key" \
      -f test/docker/images/base.Dockerfile -t "$base" "$context" >/dev/null
    rm -rf "$context"
    trap - EXIT
    docker save -o "$base_tar.partial" "$base"
    mv "$base_tar.partial" "$base_tar"
    find "$cache" -maxdepth 1 -name 'base-*.tar' ! -name "$(basename "$base_tar")" -delete
    echo "docker-images: $base built and saved to $base_tar in $(elapsed "$t")" >&2
  fi
fi

# pidone's own image, from this checkout. --network host: the build stage installs the
# addon's toolchain with apt-get and the dependencies with npm.
t=$(date +%s)
docker build --network host --build-arg "BASE_IMAGE=$base" -t "$tag" . >&2
echo "docker-images: $tag built in $(elapsed "$t")" >&2
