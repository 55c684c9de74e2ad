"""The kit must be able to FAIL: each deliberately broken component is caught by the right check
with a clear message, and the correct version passes that same check."""

from __future__ import annotations

import lamina
import pytest
from _testkit_components import (
    MSE,
    Affine,
    BackwardMutatesInput,
    ConstantSquare,
    DropsBuffer,
    ForgetfulMomentum,
    MeanNotMean,
    Momentum,
    MutatesInput,
    RaisingProbeBackend,
    Scale,
    TrainEvalMismatch,
    Upcast,
    WeightSquared,
    WeightTwice,
    WrongBackward,
    WrongSumBackward,
    affine_record,
    backend_record,
    init_record,
    momentum_record,
    mse_loss,
    mse_record,
    normal_not_uniform,
    scale_record,
    squared_record,
)
from lamina.testing import ConformanceError, run_records

BROKEN = [
    # (record of the broken component, record of the fixed one, check that must catch it, message part)
    (scale_record(WrongBackward), scale_record(Scale), "gradcheck", "Jacobian mismatch"),
    (scale_record(Scale, output_shape=lambda s: (s[0], s[1] + 1)), scale_record(Scale),
     "output_dtype_shape_device", "declared"),
    (scale_record(DropsBuffer), scale_record(Scale), "state_dict_keys", "calls"),
    (scale_record(Upcast), scale_record(Scale), "output_dtype_shape_device", "silent upcast"),
    (scale_record(TrainEvalMismatch), scale_record(Scale), "train_eval", "differs between train() and eval()"),
    (scale_record(MutatesInput), scale_record(Scale), "inputs_not_mutated", "was modified"),
    (mse_record(MeanNotMean), mse_record(MSE), "reduction_consistency", "differs from mean(none)"),
    (momentum_record(ForgetfulMomentum), momentum_record(Momentum), "optim_state_dict_roundtrip",
     "differs after resuming"),
    (backend_record(RaisingProbeBackend), None, "backend_probe", "probe() raised RuntimeError: driver exploded"),
    (scale_record(BackwardMutatesInput), scale_record(Scale), "inputs_not_mutated", "was modified by backward"),
    (affine_record(WeightTwice), affine_record(Affine), "forward_reference", "differ beyond"),
    (squared_record(ConstantSquare), squared_record(WeightSquared), "double_backward", "Jacobian mismatch"),
    (mse_record(WrongSumBackward), mse_record(MSE), "gradcheck", "(reduction='sum')"),
    (mse_record(MSE, functional=mse_loss), None, "registration", "lamina.nn.functional.mse_loss resolves to"),
    (init_record(normal_not_uniform), init_record(), "init_distribution", "do not follow the declared distribution"),
]


def _results(record, check):
    report = run_records("kit-test", [record], only=[check])
    assert report.results, f"check {check} did not run for {record}"
    return report


@pytest.mark.parametrize(("broken", "fixed", "check", "needle"), BROKEN,
                         ids=[f"{b.name or (b.cls.__name__)}-{c}" for b, _, c, _ in BROKEN])
def test_broken_component_is_caught_by_the_right_check(broken, fixed, check, needle):
    report = _results(broken, check)
    failed = [r for r in report.results if r.status == "failed"]
    assert failed, f"{check} did not catch the defect: {[(r.id, r.status, r.message) for r in report.results]}"
    assert any(needle in r.message for r in failed), [r.message for r in failed]
    if fixed is not None:
        ok = _results(fixed, check)
        assert all(r.status in ("passed", "skipped") for r in ok.results), [(r.id, r.message) for r in ok.results]
        assert any(r.status == "passed" for r in ok.results)


@pytest.mark.parametrize("record", [scale_record(Scale), mse_record(MSE), momentum_record(Momentum)],
                         ids=["layer", "loss", "optimizer"])
def test_correct_components_pass_every_check(record):
    report = run_records("kit-test", [record])
    failed = [(r.id, r.message) for r in report.results if r.status == "failed"]
    assert not failed, failed
    assert report.count("passed") >= 8


def test_expected_failure_is_reported_and_strict_mode_flags_an_unexpected_pass():
    xfail = scale_record(WrongBackward, expected_failures={"gradcheck": "known: doubled weight grad"})
    report = run_records("kit-test", [xfail], only=["gradcheck"])
    assert [r.status for r in report.results] == ["xfailed"]
    assert report.ok
    passing = scale_record(Scale, expected_failures={"gradcheck": "claimed broken"})
    strict = run_records("kit-test", [passing], only=["gradcheck"], strict=True)
    assert [r.status for r in strict.results] == ["xpassed"]
    assert not strict.ok
    with pytest.raises(ConformanceError, match="xpass|expected to fail"):
        strict.raise_for_failures()


def test_report_table_reads_well_and_names_the_test_ids():
    report = run_records("kit-test", [scale_record(WrongBackward)], only=["gradcheck", "repr"])
    table = report.table()
    assert "kit-test::WrongBackward[cpu-float64]::gradcheck" in table
    assert "FAIL" in table.splitlines()[-1]


def test_error_inputs_check_catches_a_wrong_message():
    from lamina.testing import ErrorInput, Sample

    rec = scale_record(Scale, error_inputs=[ErrorInput(Sample((lamina.zeros(2, 5).array,)), lamina.ShapeError,
                                                       "expected 17 channels")])
    report = run_records("kit-test", [rec], only=["error_inputs"])
    assert report.results[0].status == "failed"
    assert "does not match" in report.results[0].message


@pytest.mark.parametrize(("channels", "status"), [(3, "passed"), (4, "failed")])
def test_error_input_with_init_kwargs_may_raise_at_the_call_but_must_raise(channels, status):
    # PyTorch validates some constructor arguments only in forward (MaxPool's padding): such an error
    # input passes when the call raises, and still fails when neither construction nor call raises
    from lamina.testing import ErrorInput, Sample

    err = ErrorInput(Sample((lamina.zeros(2, 4).array,)), lamina.ShapeError, r"expected input \(N, 3\)",
                     init_kwargs={"channels": channels})
    report = run_records("kit-test", [scale_record(Scale, error_inputs=[err])], only=["error_inputs"])
    assert [r.status for r in report.results] == [status], [(r.status, r.message) for r in report.results]
    if status == "failed":
        assert "nothing was raised" in report.results[0].message


def _kernel_records():
    import numpy as np
    from lamina.ops.unary import Sigmoid
    from lamina.testing import KernelInfo, Sample

    class FastSigmoid(Sigmoid):
        @staticmethod
        def forward(ctx, x):
            y = 1 / (1 + ctx.xp.exp(-x))
            ctx.save_for_backward(y)
            return y

    class WrongSigmoid(Sigmoid):
        @staticmethod
        def backward(ctx, dy):
            (y,) = ctx.saved_tensors
            return dy * y  # missing the (1 - y) factor

    def samples(xp, dtype, rng):
        return [Sample((xp.asarray(rng.standard_normal((4, 5)).astype(dtype)),))]

    def ref(x):
        return 1 / (1 + np.exp(-x))

    good = KernelInfo(op=Sigmoid, impl=FastSigmoid, device_type="cpu", sample_inputs=samples, reference=ref)
    bad = KernelInfo(op=Sigmoid, impl=WrongSigmoid, device_type="cpu", sample_inputs=samples, reference=ref)
    return good, bad


def test_kernel_checks_catch_a_kernel_that_disagrees_with_its_reference():
    good, bad = _kernel_records()
    ok = run_records("kit-test", [good])
    assert ok.ok and ok.count("passed") >= 2, ok.table()
    report = run_records("kit-test", [bad], only=["kernel_backward_reference"])
    assert [r.status for r in report.results] == ["failed", "failed"]
    assert "gradient 0" in report.results[0].message


def _eye_right(tensor):
    with lamina.no_grad():
        return tensor.copy_(lamina.eye(*tensor.shape, dtype=tensor.dtype, device=tensor.device))


def _eye_anti_diagonal(tensor):
    with lamina.no_grad():
        return tensor.copy_(lamina.eye(*tensor.shape, dtype=tensor.dtype, device=tensor.device).flip(1))


def _eye_keeps_old_values(tensor):
    # writes the ones but never clears the rest of the tensor
    n = min(tensor.shape)
    with lamina.no_grad():
        for i in range(n):
            tensor[i, i] = 1.0
    return tensor


@pytest.mark.parametrize("wrong", [_eye_anti_diagonal, _eye_keeps_old_values], ids=["anti-diagonal", "keeps-old"])
def test_init_reference_check_catches_a_wrong_deterministic_scheme(wrong):
    import numpy as np
    from lamina.testing import InitInfo

    def record(fn):
        return InitInfo(fn=fn, name="eye_", shapes=((4, 4), (3, 5)), reference=lambda shape: np.eye(*shape))

    report = run_records("kit-test", [record(wrong)], only=["init_reference"])
    assert [r.status for r in report.results] == ["failed", "failed"], report.table()
    assert "differ from the reference" in report.results[0].message
    ok = run_records("kit-test", [record(_eye_right)], only=["init_reference"])
    assert [r.status for r in ok.results] == ["passed", "passed"], ok.table()
