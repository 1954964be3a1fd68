"""Export of fitted estimators for serving: ONNX (``onnx``)."""
