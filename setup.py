"""Build configuration beyond pyproject.toml: the optional C accelerator.

``cs_sdk._speedups`` (the recording hot path in C) is built where a C compiler is available
on CPython. ``optional=True``: when it cannot be built the install still succeeds and the
package runs its pure-Python implementation of the same code path.
"""

import sys

from setuptools import Extension, setup

extensions = []
if sys.implementation.name == "cpython":
    extensions.append(Extension("cs_sdk._speedups", ["cs_sdk/_speedups.c"], optional=True))

setup(ext_modules=extensions)
