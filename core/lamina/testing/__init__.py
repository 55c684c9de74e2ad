"""``lamina.testing``: gradient checks now; the conformance kit (TESTKIT.md) grows here.

Importing this package never imports pytest; checks that need it import it when they run.
"""

from __future__ import annotations

from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]
