#!/bin/bash
# Configures (once) and compiles a build directory.
#   build.sh DIR [MESON-SETUP-OPTIONS...]
# Idempotent: an existing build directory is reconfigured only when its
# options differ, and ninja rebuilds only what changed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=$1
shift
if [ ! -f "$dir/build.ninja" ]; then
  meson setup "$dir" "$root" "$@" >/dev/null
elif [ $# -gt 0 ]; then
  meson configure "$dir" "$@" >/dev/null
fi
meson compile -C "$dir" >/dev/null
