"""What a worker of an optimisation imports before its first run, imported once by the workers' fork server.

:class:`experiments.optimise.Evaluator` starts the fork server (:func:`experiments.sweep.start_workers`)
with this module preloaded: what a run needs, the model with NumPy, pandas and Mesa. Forked from the
optimisation's process (Linux), the server finds all of it imported already; it then applies the
workers' thread limit to the numerical libraries loaded before it and freezes what it has loaded for
the garbage collector (:func:`experiments.sweep.settle_server`). Not :mod:`experiments.optimise`
itself: when it is the main module of a server started anew, multiprocessing runs it afresh in every
worker (as ``__mp_main__``) and warns if the worker has imported it already.
"""

from __future__ import annotations

import concurrent.futures.process  # noqa: F401 - the pool's worker loop
import multiprocessing.queues  # noqa: F401
import multiprocessing.synchronize  # noqa: F401

import numpy  # noqa: F401
import pandas  # noqa: F401

import experiments.mixes  # noqa: F401
import experiments.sweep
import sim.runner  # noqa: F401

experiments.sweep.settle_server()  # the thread limit, and all loaded so far frozen for the garbage collector
