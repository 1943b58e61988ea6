#!/usr/bin/env bash
# Fetches, here, the Debian packages r1kit builds against, for a machine that has CUDA, CMake and a
# CUDA build of PyTorch but no package registry (the lent H100/H200 machines): their .deb files go
# to .gpu-deps/ (git-ignored), which scripts/gpu-check.sh unpacks there into a private prefix.
# Run once from anywhere in the checkout; carry .gpu-deps with the device tool's `carry`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Headers and CMake/pkg-config files (-dev) plus the shared libraries the build links at run time.
packages=(
  nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev
  libyaml-cpp-dev libyaml-cpp0.7
  libsentencepiece-dev libsentencepiece0 libprotobuf-lite32
  libre2-dev libre2-9
  libboost1.74-dev libboost-filesystem1.74-dev libboost-filesystem1.74.0
  libboost-system1.74-dev libboost-system1.74.0 libboost-atomic1.74-dev libboost-atomic1.74.0
  pkgconf-bin libpkgconf3
  libgloo-dev  # headers only, for torch's ProcessGroupGloo.hpp (model/distributed.cpp)
)
mkdir -p .gpu-deps
grep -qxF '/.gpu-deps/' .git/info/exclude 2>/dev/null || echo '/.gpu-deps/' >>.git/info/exclude
cd .gpu-deps
rm -f ./*.deb
apt-get download -q "${packages[@]}"
echo "gpu-deps: $(ls ./*.deb | wc -l) packages, $(du -sh . | cut -f1) in .gpu-deps/"
