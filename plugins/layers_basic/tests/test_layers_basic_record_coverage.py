"""Every part-B component of lamina-layers-basic (activations, dropout, embedding, reshaping, distance)
has an info record, so the conformance kit (test_layers_basic_kit.py) checks each of them."""

from __future__ import annotations

from importlib.metadata import entry_points

from lamina.testing import ModuleInfo
from lamina_layers_basic.testing_b import records_b

PART_B_MODULES = ("activation", "activation_misc", "dropout", "embedding", "reshaping", "distance")


def test_records_cover_every_part_b_component():
    names = {rec.cls.__name__ if isinstance(rec, ModuleInfo) else rec.fn.__name__ for rec in records_b()}
    offered = [ep.name for group in ("lamina.layers", "lamina.functional") for ep in entry_points(group=group)
               if ep.value.partition(":")[0] in {f"lamina_layers_basic.{mod}" for mod in PART_B_MODULES}]
    assert len(offered) > 20, f"found only {offered}: is lamina-layers-basic installed?"
    missing = sorted(set(offered) - names)
    assert not missing, f"no info record for {missing}"
