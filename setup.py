"""Build configuration beyond pyproject.toml: the optional C accelerator.

``cs_sdk._speedups`` (the recording hot path in C) is built where a C compiler is available
on CPython, and so is ``cs_sdk._encoder_speedups`` (the worker's protobuf value writer).
``optional=True``: when it cannot be built the install still succeeds and the
package runs its pure-Python implementation of the same code path. The same holds for
``cs_sdk.events._init_speedups`` (typed events built without pydantic's validator where
that changes nothing) and ``cs_sdk.collector._wire_speedups``, the collector's OTLP
protobuf decoder.
"""

import sys

from setuptools import Extension, setup

extensions = []
if sys.implementation.name == "cpython":
    # cs_sdk/_slots.h: the slot rule both of these include.
    slots = ["cs_sdk/_slots.h"]
    extensions.append(
        Extension("cs_sdk._speedups", ["cs_sdk/_speedups.c"], depends=slots, optional=True)
    )
    # The export worker's protobuf writer of attribute and body values (nested ones included);
    # without it the worker writes them in Python.
    extensions.append(
        Extension("cs_sdk._encoder_speedups", ["cs_sdk/_encoder_speedups.c"], optional=True)
    )
    # Typed events' construction for plain classes (events/_fast_init.py); without it
    # pydantic validates every field.
    extensions.append(
        Extension(
            "cs_sdk.events._init_speedups",
            ["cs_sdk/events/_init_speedups.c"],
            depends=slots,
            optional=True,
        )
    )
    # The collector's protobuf decoder; without it the collector decodes in Python.
    extensions.append(
        Extension(
            "cs_sdk.collector._wire_speedups",
            ["cs_sdk/collector/_wire_speedups.c"],
            optional=True,
        )
    )

setup(ext_modules=extensions)
