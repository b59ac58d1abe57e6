#!/usr/bin/env bash
# Installs everything globusfs needs to build, test and run its demo, from
# Debian 12 packages. Needs root (or sudo).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends \
  build-essential cmake ninja-build pkg-config git ca-certificates \
  libfuse3-dev fuse3 \
  libcurl4-openssl-dev libssl-dev openssl \
  nlohmann-json3-dev liblmdb-dev lmdb-utils \
  googletest libgtest-dev libgmock-dev \
  curl rsync attr procps psmisc
