# SPDX-License-Identifier: BSD-3-Clause
"""The frame builder of make-crafted.py as an importable module (its file name has a
hyphen): `from crafted_lib import crafted` in the sample scripts beside it."""

import importlib.util
import os

_spec = importlib.util.spec_from_file_location(
    "make_crafted", os.path.join(os.path.dirname(os.path.abspath(__file__)), "make-crafted.py"))
crafted = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(crafted)
