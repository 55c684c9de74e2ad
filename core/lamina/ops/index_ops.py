"""(filled in by the next commits)"""


class IndexOpsMethods:
    __slots__ = ()
