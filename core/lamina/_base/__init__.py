"""The base layer: dtypes, errors and named result types. Imports nothing else of lamina."""
