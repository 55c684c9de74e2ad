"""lamina-jit: torch.jit and torch.fx for lamina, as faithful pass-throughs (lamina has no compiler).

* ``lamina.jit`` (:mod:`lamina_jit.jit`): ``script`` returns its argument, ``trace`` runs the function once
  on the example inputs and returns it, the decorators return what they decorate; ``save``/``load``/``freeze``
  raise ``NotImplementedError`` pointing to ``lamina.save`` of a ``state_dict``.
* ``lamina.fx`` (:mod:`lamina_jit.fx`): ``wrap``, ``has_side_effect`` and ``map_arg`` work; ``symbolic_trace``
  and the graph classes raise ``NotImplementedError``.
"""

__lamina_plugin_api__ = "1.0"
