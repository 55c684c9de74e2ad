"""Opt-in pytest plugin: ``pytest -p lamina.testing.pytest_plugin [--lamina-device cuda]``.

Adds ``--lamina-device`` and the fixtures ``lamina_device`` (the chosen device, skipping when its
backend is unavailable), ``lamina_dtype`` (float32 and float64) and ``lamina_backend``. Tests marked
``gpu`` are skipped when no CUDA backend is usable.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lamina")
    group.addoption("--lamina-device", default="cpu", help="device the lamina fixtures run on (cpu, cuda, ...)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "gpu: needs a CUDA device (skipped without one)")


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    import lamina

    if lamina.cuda.is_available():
        return
    skip = pytest.mark.skip(reason=f"no CUDA device: {lamina.cuda.unavailable_reason()[:200]}")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def lamina_device(request: pytest.FixtureRequest) -> str:
    import lamina

    dev = request.config.getoption("--lamina-device")
    ok, why = lamina.backends.backend_available(lamina.device(dev).type)
    if not ok:
        pytest.skip(f"device {dev} unavailable: {why}")
    return dev


@pytest.fixture(params=["float32", "float64"])
def lamina_dtype(request: pytest.FixtureRequest):
    import lamina

    return getattr(lamina, request.param)


@pytest.fixture
def lamina_backend(lamina_device: str):
    import lamina

    return lamina.device(lamina_device).backend
