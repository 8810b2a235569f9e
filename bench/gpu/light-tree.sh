#!/usr/bin/env bash
# The device tool sends this checkout's working tree with every call, 64 MiB at most; the
# shipped model weights alone are ~52 MB, which leaves too little room for the packed backbone.
#   bench/gpu/light-tree.sh on    # a detached commit without src/uniner/models/*/*.safetensors
#   ... device calls (nothing there needs the shipped weights) ...
#   bench/gpu/light-tree.sh off   # back to the branch; git restores the weights
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
mark=.git/light-tree-branch
case "${1:-}" in
  on)
    if [ -e "$mark" ]; then echo "already on the light tree" >&2; exit 1; fi
    if ! git diff --quiet || ! git diff --cached --quiet; then
      echo "commit or stash your changes first" >&2; exit 1
    fi
    git rev-parse --abbrev-ref HEAD > "$mark"
    git switch -q --detach
    git ls-files -z 'src/uniner/models/*.safetensors' | xargs -0 git rm -q
    git commit -q -m "device: light tree (no shipped model weights)"
    ;;
  off)
    if [ ! -e "$mark" ]; then echo "not on the light tree" >&2; exit 1; fi
    git switch -q "$(cat "$mark")"
    rm "$mark"
    ;;
  *) echo "usage: $0 on|off" >&2; exit 2 ;;
esac
git ls-files -z | xargs -0 du -cb | tail -1 | awk '{printf "tracked files: %.1f MB\n", $1/1e6}'
