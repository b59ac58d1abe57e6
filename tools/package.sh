#!/usr/bin/env bash
# Builds the Debian package build/globusfs_<version>_<arch>.deb with CPack
# (settings in dist/CMakeLists.txt): the three programs, their man pages and
# bash completion, the systemd user unit and the docs; no test.
#
# Usage: tools/package.sh            (BUILD_DIR=DIR to use another build folder)
# Then:  apt-get install ./build/globusfs_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"

if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
# Only the programs that go in the package (CMAKE_SKIP_INSTALL_ALL_DEPENDENCY:
# CPack does not build the tests either).
cmake --build "$BUILD_DIR" --target globusfs globusfs-auth globus-emulator

version="$("$BUILD_DIR/bin/globusfs" --version | awk '{print $2}')"
arch="$(dpkg --print-architecture)"
deb="$BUILD_DIR/globusfs_${version}_${arch}.deb"
rm -f "$deb"
(cd "$BUILD_DIR" && cpack -G DEB --config CPackConfig.cmake >cpack.log 2>&1) || {
  cat "$BUILD_DIR/cpack.log" >&2
  echo "package.sh: cpack failed" >&2
  exit 1
}
if [ ! -f "$deb" ]; then
  cat "$BUILD_DIR/cpack.log" >&2
  echo "package.sh: cpack did not make $deb" >&2
  exit 1
fi
echo "$deb"
