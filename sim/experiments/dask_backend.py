"""A Dask distributed cluster (``--scheduler tcp://host:8786``): the same runs, bundled several to a task.

The base scenario is scattered once to every worker. A task whose worker dies is rescheduled by Dask, and one that
raises is retried (``retries``). Workers must have this package installed; Dask's nanny already starts them with
OMP/MKL/OpenBLAS pinned to one thread (``distributed.nanny.pre-spawn-environ``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

from sim.errors import ConfigError
from sim.experiments.base import Batch, Evaluator, WorkerLost, auto_bundle, bundles
from sim.experiments.runs import RunContext, RunSpec, execute_bundle


class DaskEvaluator(Evaluator):
    """Runs on a Dask cluster (``--scheduler``): bundles of runs as tasks, retried on a lost worker."""

    name = "dask"

    def __init__(self, address: str, bundle: int | None = None, retries: int = 2, timeout: float = 30.0):
        from distributed import Client

        self.address, self.bundle, self.retries = address, bundle, retries
        try:
            self.client = Client(address, timeout=timeout)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ConfigError("sim", "--scheduler", f"cannot reach Dask scheduler {address}: {exc}") from None
        self.workers = max(1, sum(self.client.nthreads().values()))

    def evaluate(self, context: RunContext, specs: Sequence[RunSpec]) -> Iterator[Batch]:
        """Submit the runs in bundles and yield each bundle's results as it completes."""
        from distributed import KilledWorker, as_completed

        if not specs:
            return
        slots = max(1, sum(self.client.nthreads().values()))
        size = self.bundle or auto_bundle(len(specs), slots, per_slot=4, most=50)
        todo = iter(bundles(specs, size))
        shared = self.client.scatter(context, broadcast=True)

        live = set()

        def submit(chunk):
            future = self.client.submit(execute_bundle, shared, chunk, retries=self.retries, pure=False)
            live.add(future)
            return future

        queue = as_completed([submit(chunk) for chunk in itertools.islice(todo, 2 * slots)], with_results=True)
        try:
            for future, batch in queue:
                live.discard(future)
                yield batch
                chunk = next(todo, None)
                if chunk is not None:
                    queue.add(submit(chunk))
        except KilledWorker as exc:
            self.client.cancel(list(live))
            raise WorkerLost(f"Dask gave up on a task whose workers kept dying ({exc})") from None
        except BaseException:
            self.client.cancel(list(live))
            raise

    def close(self) -> None:
        """Disconnect from the scheduler (the cluster keeps running)."""
        self.client.close()
