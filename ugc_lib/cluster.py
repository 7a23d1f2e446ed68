"""Run a sweep's (config, seed) pairs on a Dask cluster and stream the records back.

The runner names the cluster (its `scheduler=` argument, else UGC_SCHEDULER) and hands
over the pairs still missing from its cache plus a function that runs one chunk of them
(`run_chunk(list[(RunConfig, seed)]) -> list[record]`). Here the pairs are cut into
chunks of one config's seeds, each chunk becomes one Dask task, and the records come
back to the client as chunks finish. Workers write nothing to disk: the client writes
its cache, so no shared filesystem is needed.

`distributed` is imported only when a cluster is named: the local path never loads it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from typing import Callable, Iterator, Sequence

ENV_SCHEDULER = "UGC_SCHEDULER"       # tcp://HOST:PORT of a running `dask scheduler`
ENV_TIMEOUT = "UGC_SCHEDULER_TIMEOUT"  # seconds to wait for the scheduler and a first worker
DEFAULT_TIMEOUT = 10.0
SCHEMES = ("tcp", "tls", "ws", "wss", "inproc", "ucx")
_LOCAL_WORDS = ("", "off", "none", "local", "0")
_ADDRESS = re.compile(r"^([a-z]+)://(\S+)$")
GPU = "GPU"                            # the worker resource a device="cuda" run asks for
RETRIES = 2                            # extra tries of a task that raised (worker deaths are
                                       # rescheduled by the scheduler: distributed.scheduler.
                                       # allowed-failures, 3 by default)
CHUNKS_PER_THREAD = 4                  # tasks per worker thread: balance against overhead

RunChunk = Callable[[list], list]      # [(RunConfig, seed), ...] -> [record, ...]

_clients: dict[str, object] = {}       # address -> distributed.Client, one per process


def scheduler_address(scheduler: str | bool | None = None) -> str | None:
    """The scheduler to use, or None for the local path.

    scheduler: an address (tcp://HOST:PORT); None reads UGC_SCHEDULER; False forces the
    local path whatever the environment says.
    """
    if scheduler is False:
        return None
    source = "scheduler"
    if scheduler is None or scheduler is True:
        scheduler, source = os.environ.get(ENV_SCHEDULER), ENV_SCHEDULER
        if scheduler is None:
            return None
    if not isinstance(scheduler, str):
        raise TypeError(f"{source} must be an address string like tcp://HOST:8786, "
                        f"got {type(scheduler).__name__}")
    value = scheduler.strip()
    if value.lower() in _LOCAL_WORDS:
        return None
    m = _ADDRESS.match(value)
    if m is None or m[1] not in SCHEMES:
        raise ValueError(f"{source}={scheduler!r} is invalid: allowed a Dask scheduler address "
                         f"SCHEME://HOST:PORT with SCHEME in {', '.join(SCHEMES)} "
                         f"(e.g. tcp://127.0.0.1:8786), or unset/'off' for the local path")
    return value


def connect_timeout() -> float:
    raw = os.environ.get(ENV_TIMEOUT)
    if raw is None:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ValueError(f"{ENV_TIMEOUT}={raw!r} is invalid: allowed a number of seconds > 0")
    return value


def get_client(address: str, timeout: float | None = None):
    """A connected distributed.Client with at least one worker (cached per address).

    Raises ConnectionError, before any work is submitted, when the scheduler does not
    answer or has no worker within `timeout` seconds (default UGC_SCHEDULER_TIMEOUT, 10).
    """
    client = _clients.get(address)
    if client is not None and client.status == "running":
        return client
    from distributed import Client

    timeout = connect_timeout() if timeout is None else timeout
    hint = (f"start one with `dask scheduler` and `dask worker {address}`, raise "
            f"{ENV_TIMEOUT}, or unset {ENV_SCHEDULER} to run locally")
    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except OSError as err:
        raise ConnectionError(f"no Dask scheduler answered at {address} within {timeout:g} s: "
                              f"{hint}") from err
    try:
        client.wait_for_workers(1, timeout=timeout)
    except TimeoutError as err:
        client.close()
        raise ConnectionError(f"the Dask scheduler at {address} has no worker after "
                              f"{timeout:g} s: {hint}") from err
    _clients[address] = client
    return client


def check_scheduler(scheduler: str) -> str | None:
    """The address, once a scheduler with a worker answered there (None: the local path).

    For command lines: fails fast, before notebooks or benchmarks start; holds no
    connection afterwards.
    """
    address = scheduler_address(scheduler)
    if address is not None:
        held = address in _clients
        client = get_client(address)
        if not held:
            _clients.pop(address, None)
            client.close()
    return address


def close_clients() -> None:
    """Close every client this process opened (tests, or before the cluster goes away)."""
    while _clients:
        _, client = _clients.popitem()
        client.close()


def pin_threads() -> None:
    """One torch thread and one BLAS/OpenMP thread, in the calling worker thread.

    Called at the start of every task: OpenMP's thread count is per calling thread, and
    a worker may run tasks on a new thread. Every run also calls
    repro.seed_everything(threads=train.threads); this covers the code around it and
    workers started without a nanny, which therefore miss dask's OMP_NUM_THREADS=1.
    """
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"  # for libraries not loaded yet
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    threadpool_limits(limits=1)  # stays in force: the return value is not used as a context


def thread_counts() -> dict:
    """Torch threads and the largest BLAS/OpenMP pool, as seen from the calling thread."""
    import torch
    from threadpoolctl import threadpool_info

    return {"torch": torch.get_num_threads(),
            "blas": max((p["num_threads"] for p in threadpool_info()), default=1)}


def run_task(run_chunk: RunChunk, chunk: list) -> list:
    """The body of one Dask task, on a worker."""
    pin_threads()
    return run_chunk(chunk)


def resources_for(chunk: Sequence) -> dict | None:
    """{"GPU": 1} for runs whose config asks for CUDA; None lets any worker take them."""
    devices = {cfg.train.device for cfg, _ in chunk}
    if len(devices) > 1:
        raise ValueError(f"a chunk mixes train.device values {sorted(devices)}: allowed one")
    return {GPU: 1} if devices == {"cuda"} else None


def plan_chunks(pairs: Sequence, slots: int, per_slot: int | None = None) -> list[list[int]]:
    """Indices of pairs, cut into chunks of consecutive seeds of one config.

    About per_slot chunks per worker thread (slots), so that the workers stay busy to the
    end while sub-second runs share a task's fixed cost. One config per chunk: a batched
    multi-seed runner can take a chunk as one batch.
    """
    per_slot = CHUNKS_PER_THREAD if per_slot is None else per_slot
    size = max(1, math.ceil(len(pairs) / (per_slot * max(1, slots))))
    chunks: list[list[int]] = []
    for i, (cfg, _) in enumerate(pairs):
        last = chunks[-1] if chunks else None
        if last is None or len(last) == size or pairs[last[0]][0] != cfg:
            chunks.append([i])
        else:
            last.append(i)
    return chunks


def task_key(run_chunk: RunChunk, chunk: Sequence) -> str:
    """A key from the chunk's content: the same chunk submitted twice (two notebooks
    sharing runs) is computed once by the scheduler."""
    name = getattr(run_chunk, "__qualname__", type(run_chunk).__name__)
    payload = json.dumps([name, [[cfg.to_dict(), int(seed)] for cfg, seed in chunk]],
                         sort_keys=True)
    return f"ugc-runs-{hashlib.sha256(payload.encode()).hexdigest()[:24]}"


def _gpu_workers(client) -> list[str]:
    workers = client.scheduler_info(n_workers=-1)["workers"]
    return [a for a, w in workers.items() if w.get("resources", {}).get(GPU, 0) >= 1]


def run_pairs(run_chunk: RunChunk, pairs: Sequence, address: str,
              retries: int = RETRIES) -> Iterator[tuple[int, dict]]:
    """Submit every (config, seed) pair to the cluster at `address`, now.

    Returns an iterator of (index into pairs, record), in the order the chunks finish.
    Connection errors are raised here, before anything is submitted. On a task's error
    the remaining tasks are cancelled and the error is raised; records already yielded
    stay valid (the caller has cached them, so a rerun resumes).
    """
    if not pairs:
        return iter(())
    client = get_client(address)
    slots = sum(client.nthreads().values())
    chunks = plan_chunks(pairs, slots)
    needs = [resources_for([pairs[i] for i in idx]) for idx in chunks]
    if any(needs) and not _gpu_workers(client):
        raise ValueError(f"train.device='cuda' runs need a worker started with "
                         f"`--resources {GPU}=1`; the scheduler at {address} has none")
    futures = {}
    for idx, resources in zip(chunks, needs):
        chunk = [pairs[i] for i in idx]
        future = client.submit(run_task, run_chunk, chunk, key=task_key(run_chunk, chunk),
                               resources=resources, retries=retries)
        futures[future] = idx
    return _gather(client, futures)


def _gather(client, futures: dict) -> Iterator[tuple[int, dict]]:
    from distributed import as_completed

    pending = set(futures)
    try:
        for future, records in as_completed(list(futures), with_results=True, loop=client.loop):
            idx = futures[future]
            if len(records) != len(idx):
                raise RuntimeError(f"a task returned {len(records)} records for "
                                   f"{len(idx)} runs")
            pending.discard(future)
            future.release()
            yield from zip(idx, records)
    finally:
        if pending:
            client.cancel(list(pending))
