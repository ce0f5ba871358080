"""Set-up scripts run by `make` (dev secret, the /webgpu page's npm packages and ONNX model); nothing the app imports."""
