"""What a worker of a joblib sweep imports before its first job, imported once by the workers' fork server.

:func:`experiments.sweep.start_workers` starts a fork server that imports this module; each
worker is a fork of that server and finds all this imported, instead of importing it in
every fresh worker process. It is what a job needs: Hydra and OmegaConf, what the job function
(:mod:`experiments.run`) imports, the model with pandas and Mesa (:mod:`sim.runner`), networkx
for the network file, pyarrow for the Parquet files, and Hydra's plugins, which unpickling
Hydra's global state in a worker would otherwise import. Not :mod:`experiments.run` itself:
when it is the sweep's main module, multiprocessing runs it afresh in every worker (as
``__mp_main__``) and warns if the worker has imported it already.
"""

from __future__ import annotations

import concurrent.futures.process  # noqa: F401 - the pool's worker loop
import multiprocessing.queues  # noqa: F401
import multiprocessing.synchronize  # noqa: F401

import cloudpickle  # noqa: F401 - the sweep's shared setting is pickled with it
import networkx  # noqa: F401
import pandas.io.parquet  # noqa: F401
import pyarrow.pandas_compat  # noqa: F401
import pyarrow.parquet  # noqa: F401
from hydra._internal.config_loader_impl import ConfigLoaderImpl  # noqa: F401
from hydra.core.plugins import Plugins
from hydra.core.utils import run_job  # noqa: F401

import experiments.callbacks  # noqa: F401
import experiments.provenance  # noqa: F401
import experiments.sensitivity  # noqa: F401
import experiments.sweep
import sim.runner  # noqa: F401

Plugins.instance()  # finds and imports every Hydra plugin once
experiments.sweep.settle_server()  # the thread limit, and all loaded so far frozen for the garbage collector
