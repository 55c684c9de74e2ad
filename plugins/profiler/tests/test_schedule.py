"""lamina.profiler.schedule and prof.step() against torch.profiler: the action of every step, which steps
end up in each trace handed to on_trace_ready, the warnings for schedules that skip phases, and argument
validation."""

from __future__ import annotations

import itertools
import warnings

import lamina
import lamina.profiler as lprof
import pytest
import torch
import torch.profiler as tprof

pytestmark = pytest.mark.filterwarnings("ignore:Profiler won't be using warmup:UserWarning")

SCHEDULES = [dict(wait=1, warmup=1, active=2), dict(wait=0, warmup=0, active=1), dict(wait=2, warmup=1, active=3,
             repeat=2), dict(wait=1, warmup=2, active=1, repeat=1, skip_first=3),
             dict(wait=3, warmup=1, active=2, skip_first=2, skip_first_wait=1),
             dict(wait=0, warmup=1, active=1, repeat=3, skip_first_wait=1)]


@pytest.mark.parametrize("kwargs", SCHEDULES)
def test_schedule_actions_equal_torch(kwargs):
    ours, theirs = lprof.schedule(**kwargs), tprof.schedule(**kwargs)
    for step in range(30):
        assert ours(step).name == theirs(step).name, step


@pytest.mark.parametrize("bad", [dict(wait=-1, warmup=1, active=1), dict(wait=0, warmup=-1, active=1),
                                 dict(wait=0, warmup=1, active=0), dict(wait=0, warmup=1, active=1, repeat=-1),
                                 dict(wait=0, warmup=1, active=1, skip_first=-2)])
def test_schedule_validation_as_torch(bad):
    for lib in (lprof, tprof):
        with pytest.raises(AssertionError, match="Invalid profiler schedule arguments"):
            lib.schedule(**bad)
    with pytest.raises(AssertionError, match="non-negative"):
        lprof.schedule(wait=0, warmup=1, active=1)(-1)


def test_schedule_without_warmup_warns_as_torch():
    for lib in (lprof, tprof):
        with pytest.warns(UserWarning, match="won't be using warmup"):
            lib.schedule(wait=1, warmup=0, active=1)


def _run(lib, profiler_lib, steps, **profile_kwargs):
    """A loop of ``steps`` steps of one op each; per trace handed to on_trace_ready: the step number at that
    moment and the ProfilerStep#n regions in the trace."""
    traces = []

    def ready(prof):
        names = sorted({e.trace_name for e in prof.events() if e.name == "ProfilerStep*"},
                       key=lambda n: int(n.split("#")[1]))
        traces.append((prof.step_num, names))

    x = lib.ones(3)
    with profiler_lib.profile(on_trace_ready=ready, **profile_kwargs) as prof:
        for _ in range(steps):
            x = x + 1
            prof.step()
    return traces, prof


@pytest.mark.parametrize("kwargs,steps", list(itertools.product(SCHEDULES, [5, 12])))
def test_recorded_steps_equal_torch(kwargs, steps):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ours, _ = _run(lamina, lprof, steps, schedule=lprof.schedule(**kwargs))
        theirs, _ = _run(torch, tprof, steps, schedule=tprof.schedule(**kwargs))
    assert ours == theirs


def test_no_schedule_records_everything_without_step_regions():
    ours, prof = _run(lamina, lprof, 4)
    theirs, tp = _run(torch, tprof, 4)
    assert ours == theirs == [(4, [])]
    assert [e.count for e in prof.key_averages() if e.key == "lamina::add"] == [4]
    assert [e.count for e in tp.key_averages() if e.key == "aten::add"] == [4]


def test_acc_events_keeps_every_trace():
    kwargs = dict(wait=1, warmup=1, active=1)
    ours, prof = _run(lamina, lprof, 9, schedule=lprof.schedule(**kwargs), acc_events=True)
    assert [names for _, names in ours] == [["ProfilerStep#2"], ["ProfilerStep#2", "ProfilerStep#5"],
                                            ["ProfilerStep#2", "ProfilerStep#5", "ProfilerStep#8"]]
    assert [e.count for e in prof.key_averages() if e.key == "lamina::add"] == [3]


@pytest.mark.parametrize("actions,message,libs", [
    (["RECORD", "NONE"], "RECORD followed by NONE", (lprof, tprof)),
    (["WARMUP", "NONE"], "WARMUP followed by NONE", (lprof, tprof)),
    (["RECORD", "WARMUP", "RECORD"], "RECORD followed by WARMUP", (lprof,)),  # torch 2.13 crashes (SIGSEGV) here
])
def test_incorrect_custom_schedules_warn_as_torch(actions, message, libs):
    for lib in libs:
        plan = [getattr(lib.ProfilerAction, a) for a in actions]
        with pytest.warns(UserWarning, match=message):
            with lib.profile(schedule=lambda step, plan=plan: plan[min(step, len(plan) - 1)]) as prof:
                for _ in range(len(plan)):
                    prof.step()


def test_device_stopped_is_refused_from_a_schedule():
    with pytest.raises(ValueError, match="DEVICE_STOPPED"):
        lprof.profile(schedule=lambda step: lprof.ProfilerAction.DEVICE_STOPPED)
    prof = lprof.profile(schedule=lambda step: lprof.ProfilerAction.DEVICE_STOPPED if step else
                         lprof.ProfilerAction.RECORD)
    with pytest.raises(ValueError, match="DEVICE_STOPPED"):
        with prof:
            prof.step()


def test_events_before_any_trace_raise():
    with lprof.profile(schedule=lprof.schedule(wait=5, warmup=1, active=1)) as prof:
        prof.step()
    with pytest.raises(AssertionError, match="no trace"):
        prof.events()


def test_enums_as_torch():
    assert [a.name for a in lprof.ProfilerAction] == [a.name for a in tprof.ProfilerAction]
    assert [a.value for a in lprof.ProfilerAction] == [a.value for a in tprof.ProfilerAction]
    assert {a: lprof.ProfilerActivity[a].value for a in tprof.ProfilerActivity.__members__} == \
        {a: v.value for a, v in tprof.ProfilerActivity.__members__.items()}
    assert list(lprof.DeviceType.__members__) == list(tprof.DeviceType.__members__)
    assert lprof.ProfilerActivity.CPU in lprof.supported_activities()
    assert lamina.profiler is lprof
