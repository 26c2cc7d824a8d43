"""``python -m ismarl``: see :mod:`ismarl.cli`. On a CPU, JAX starts with one host device per core
(:func:`ismarl.runs.sharding.use_host_cores`), so that a run's seeds train on every core."""

import sys

from ismarl.runs.sharding import use_host_cores

use_host_cores()

from ismarl.cli import main  # noqa: E402  (after the device count is set)

if __name__ == "__main__":
    sys.exit(main())
