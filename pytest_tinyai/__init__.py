"""pytest-tinyai: the conformance and regression gate for tiny ONNX vision models kept in a registry."""

__version__ = "0.1.0"
