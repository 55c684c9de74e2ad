"""Conformance records for the CPU backend (consumed by lamina.testing)."""

from __future__ import annotations


def records() -> list:
    from lamina.testing import BackendInfo

    from . import NumpyBackend

    return [BackendInfo(cls=NumpyBackend)]
