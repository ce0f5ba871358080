"""Set-up scripts `make` runs (the dev secret, the /webgpu page's npm packages and ONNX model); the app imports none."""
