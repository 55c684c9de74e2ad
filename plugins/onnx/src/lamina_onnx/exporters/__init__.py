"""lamina-onnx's first-party exporter tables, one file per family; each is an entry point of the
``lamina.onnx.exporters`` group (pyproject.toml), found exactly as a third party's would be."""
