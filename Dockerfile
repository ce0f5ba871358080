# Hybrid Chat: the app image (also runs the Chroma server in compose.yaml, so client and server match).
#   docker build -t hybrid-chat .
# Production set-up with PostgreSQL, a Chroma server and Ollama: see compose.yaml and the README.
FROM python:3.11-slim

# requirements.txt pins torch==2.13.0+cpu, which only PyTorch's CPU index serves (never the CUDA build).
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/data \
    JSON_LOGS=true \
    WEBGPU_DEMO=false

# curl: the health checks. The /webgpu demo page also needs Node.js and `python -m scripts.prepare_webgpu_demo`;
# it is off here (WEBGPU_DEMO=false) because it serves ~200 MB of model files to any visitor.
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt ./
# The lock is complete (`make lock`), so --no-deps installs exactly it without pip's slow resolver.
RUN pip install --no-deps --extra-index-url "${TORCH_INDEX_URL}" -r requirements.txt

# Chainlit writes beside app.py (.files for uploads in flight), so the app folder belongs to the app's user.
# The folders compose shares between app replicas exist in the image, so their volumes start owned by chat.
RUN useradd --create-home --uid 10001 chat && mkdir -p /data/files /data/knowledge-files /data/router \
    && chown chat /data /data/files /data/knowledge-files /data/router /app
COPY --chown=chat:chat . .
USER chat

EXPOSE 8000
VOLUME ["/data"]
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=5 \
    CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1
ENTRYPOINT ["docker/entrypoint.sh"]
