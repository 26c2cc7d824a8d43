"""``python -m ismarl``: see :mod:`ismarl.cli`. On a CPU, JAX starts with one host device per core
(:func:`ismarl.runs.sharding.use_host_cores`), so that a run's seeds train on every core."""

from ismarl.runs.sharding import use_host_cores

use_host_cores()

from ismarl.cli import exit_with, main  # noqa: E402  (after the device count is set)

if __name__ == "__main__":
    exit_with(main())
