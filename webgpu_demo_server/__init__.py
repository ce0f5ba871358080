"""The /webgpu page: serves the in-browser models demo (`webgpu-demo/`) and the model files it runs.

Owns the page's routes and where its files live. `app.py` calls `mount_webgpu_demo(http_app, settings)`;
`scripts/prepare_webgpu_demo.py` fills `NODE_MODULES` and `minilm_onnx_dir(settings)` once.
"""

from webgpu_demo_server.serving import DEMO_DIR, NODE_MODULES, minilm_onnx_dir, mount_webgpu_demo

__all__ = ["DEMO_DIR", "NODE_MODULES", "minilm_onnx_dir", "mount_webgpu_demo"]
