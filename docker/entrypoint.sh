#!/bin/sh
# Prepare the embedded model in DATA_DIR once (a no-op later), then start the app on 0.0.0.0:8000.
set -eu
: "${CHAINLIT_AUTH_SECRET:?set CHAINLIT_AUTH_SECRET (the same value on every instance; e.g. openssl rand -base64 48)}"
python -m router.embedded_model
exec python -m scripts.serve --host 0.0.0.0 --port "${PORT:-8000}"
