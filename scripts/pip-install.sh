#!/usr/bin/env bash
# Install the fully pinned requirements without running pip's resolver: the lock is
# complete (compiled by `make lock`), so --no-deps is both fast and reproducible.
# pip's notes about this machine's local package mirrors are filtered out.
set -euo pipefail
python="$1"; requirements="$2"
"$python" -m pip install --no-deps --quiet -r "$requirements" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
"$python" -m pip check >/dev/null || { "$python" -m pip check; exit 1; }
