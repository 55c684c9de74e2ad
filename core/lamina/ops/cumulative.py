"""(filled in by the next commits)"""


class CumulativeMethods:
    __slots__ = ()
