"""(filled in by the next commits)"""


class StatisticsMethods:
    __slots__ = ()
