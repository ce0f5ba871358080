#!/usr/bin/env bash
# Start the Chainlit app. CHAINLIT_AUTH_SECRET signs the session tokens: when it is not
# set, a random one is created once in DATA_DIR (readable by this user only) and reused.
set -euo pipefail
host="$1"; port="$2"
cd "$(dirname "$0")/.."
if [ -z "${CHAINLIT_AUTH_SECRET:-}" ]; then
  CHAINLIT_AUTH_SECRET="$(.venv/bin/python -m scripts.dev_secret)"
  export CHAINLIT_AUTH_SECRET
fi
echo "Starting Hybrid Chat on http://$host:$port"
exec .venv/bin/python -m scripts.serve --host "$host" --port "$port"
