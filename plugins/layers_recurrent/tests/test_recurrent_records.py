"""The conformance kit over the plugin's info records (every check, every record), and record coverage."""

from __future__ import annotations

import lamina
import pytest
from lamina.testing import parametrize_with_checks, run_check
from lamina_layers_recurrent.testing import records

RECORDS = records()


@parametrize_with_checks(RECORDS, dist="lamina-layers-recurrent")
def test_recurrent_conformance(case, check):
    run_check(case, check)


def test_every_registered_layer_has_a_record():
    names = {r.cls.__name__ for r in RECORDS}
    provided = {n for n in lamina.plugins.names("lamina.layers") if n in ("RNN", "LSTM", "GRU", "RNNCell",
                                                                       "LSTMCell", "GRUCell")}
    assert provided == {"RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"}
    assert provided <= names


@pytest.mark.parametrize("rec", RECORDS, ids=[r.name for r in RECORDS])
def test_records_resolve_to_the_public_classes(rec):
    assert getattr(lamina.nn, rec.cls.__name__) is rec.cls
