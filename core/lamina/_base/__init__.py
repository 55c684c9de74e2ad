"""The base layer: dtypes, errors and named result types. Imports nothing else of lamina."""

#: the package name reprs print (``lamina.float32``, ``lamina.Size([2])``); ``torch`` while the torch alias is
#: installed, so a program run by ``lamina run`` prints what it prints on torch
REPR_PREFIX = ["lamina"]
