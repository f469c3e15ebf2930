"""Conversion of trained ANNs into spiking projects.

``onnx_import`` reads an ONNX (or NIR rate) network, normalises it layer by layer on data
(``normalise``) and writes a spiking project (``import_file``, ``read_onnx``).
"""

__all__ = ["onnx_import"]
