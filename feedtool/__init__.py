"""feedtool: a folder of episodes in, an Apple-ready podcast out.

The package is a library first: each step (load, probe, tag, render, validate, publish) is a module
with no knowledge of the command line; ``feedtool.cli`` is the thin click layer over them.
"""

__version__ = "0.2.0"
