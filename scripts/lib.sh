# Shared bits for scripts/build, scripts/run and scripts/test. Source it, don't run it.
# shellcheck shell=bash

# Repository root: the parent of the directory holding this file.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT

# Debian's interpreter has pytest and pexpect; a pyenv/venv python3 on PATH may not.
PYTHON="${PYTHON:-/usr/bin/python3}"
[[ -x "$PYTHON" ]] || PYTHON="$(command -v python3)"
export PYTHON

OVMF_CODE="${OVMF_CODE:-/usr/share/OVMF/OVMF_CODE_4M.fd}"
OVMF_VARS="${OVMF_VARS:-/usr/share/OVMF/OVMF_VARS_4M.fd}"

msg() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { msg "error: $*"; exit 1; }

# kernel_build debug|release|cpu512: setup, configure once, incremental build.
kernel_build() {
  local preset="$1" dir
  case "$preset" in
    debug) dir="$ROOT/build" ;;
    release) dir="$ROOT/build/release" ;;
    cpu512) dir="$ROOT/build/cpu512" ;;
    *) die "unknown preset $preset" ;;
  esac
  "$ROOT/scripts/setup"
  if [[ ! -f "$dir/CMakeCache.txt" || ! -f "$dir/build.ninja" ]]; then
    (cd "$ROOT" && cmake --preset "$preset" >/dev/null) || die "cmake --preset $preset failed"
  fi
  (cd "$ROOT" && cmake --build --preset "$preset") || die "build ($preset) failed"
  [[ -f "$dir/kernel.elf" && -f "$dir/kernel.iso" ]] || die "build ($preset) left no kernel.elf/kernel.iso in $dir"
}
