"""Sweeps on a Dask cluster: same records as locally, faults, GPU routing, clear errors."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import ugc_lib.runner as runner
from ugc_lib import cluster
from ugc_lib.runner import cache_key, read_cached, sweep

from conftest import make_tiny

ROOT = Path(__file__).resolve().parents[1]


def _canon(record: dict) -> str:
    return json.dumps({k: v for k, v in record.items() if k != "timings"}, sort_keys=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- no cluster needed


def test_scheduler_address_from_argument_and_env(monkeypatch):
    monkeypatch.delenv(cluster.ENV_SCHEDULER, raising=False)
    assert cluster.scheduler_address() is None
    assert cluster.scheduler_address("tcp://10.0.0.1:8786") == "tcp://10.0.0.1:8786"
    monkeypatch.setenv(cluster.ENV_SCHEDULER, " tcp://host:8786 ")
    assert cluster.scheduler_address() == "tcp://host:8786"
    assert cluster.scheduler_address(False) is None  # forces the local path
    assert cluster.scheduler_address("tls://other:1") == "tls://other:1"  # argument wins
    for off in ("", "off", "local"):
        monkeypatch.setenv(cluster.ENV_SCHEDULER, off)
        assert cluster.scheduler_address() is None


@pytest.mark.parametrize("bad", ["host:8786", "http://host:8786", "tcp://", "tcp://a b:1"])
def test_bad_scheduler_address_names_the_variable(monkeypatch, bad):
    with pytest.raises(ValueError, match="scheduler=.*SCHEME://HOST:PORT"):
        cluster.scheduler_address(bad)
    monkeypatch.setenv(cluster.ENV_SCHEDULER, bad)
    with pytest.raises(ValueError, match=f"{cluster.ENV_SCHEDULER}="):
        sweep([make_tiny()], [0], cache_dir=None)


def test_plan_chunks_one_config_per_chunk():
    a, b = make_tiny(), make_tiny(**{"name": "other"})
    pairs = [(a, s) for s in range(7)] + [(b, s) for s in range(3)]
    chunks = cluster.plan_chunks(pairs, slots=1, per_slot=2)  # at most 5 runs per chunk
    assert chunks == [[0, 1, 2, 3, 4], [5, 6], [7, 8, 9]]
    assert cluster.plan_chunks(pairs, slots=100) == [[i] for i in range(10)]
    assert cluster.plan_chunks([], slots=2) == []


def test_resources_and_task_keys():
    cpu, gpu = make_tiny(), make_tiny(**{"train.device": "cuda"})
    assert cluster.resources_for([(cpu, 0), (cpu, 1)]) is None
    assert cluster.resources_for([(gpu, 0)]) == {"GPU": 1}
    with pytest.raises(ValueError, match="train.device"):
        cluster.resources_for([(cpu, 0), (gpu, 0)])
    key = cluster.task_key(runner._run_chunk, [(cpu, 0)])
    assert key == cluster.task_key(runner._run_chunk, [(make_tiny(), 0)])
    assert key != cluster.task_key(runner._run_chunk, [(cpu, 1)])


def test_unreachable_scheduler_fails_before_any_work(monkeypatch, isolated_cache):
    calls = []
    monkeypatch.setattr(runner, "run_experiment", lambda *a, **k: calls.append(a))
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    monkeypatch.setenv(cluster.ENV_SCHEDULER, address)
    monkeypatch.setenv(cluster.ENV_TIMEOUT, "1")
    with pytest.raises(ConnectionError, match=f"no Dask scheduler answered at {address}.*"
                                              f"unset {cluster.ENV_SCHEDULER}"):
        sweep([make_tiny()], [0, 1], jobs=2)
    assert calls == []
    assert not isolated_cache.exists() or not list(isolated_cache.iterdir())


def test_scheduler_without_workers_fails_before_any_work(monkeypatch):
    from distributed import LocalCluster

    calls = []
    monkeypatch.setattr(runner, "run_experiment", lambda *a, **k: calls.append(a))
    monkeypatch.setenv(cluster.ENV_TIMEOUT, "1")
    with LocalCluster(n_workers=0, processes=False, dashboard_address=None,
                      silence_logs=logging.ERROR) as empty:
        with pytest.raises(ConnectionError, match="has no worker after 1 s"):
            sweep([make_tiny()], [0], cache_dir=None, scheduler=empty.scheduler_address)
    assert calls == []


def test_cached_sweep_needs_no_scheduler(monkeypatch, isolated_cache):
    cfg = make_tiny()
    first = sweep([cfg], [0, 1])
    monkeypatch.setenv(cluster.ENV_SCHEDULER, f"tcp://127.0.0.1:{_free_port()}")
    monkeypatch.setenv(cluster.ENV_TIMEOUT, "1")
    again = sweep([cfg], [0, 1])  # nothing missing: no connection is tried
    assert [json.dumps(r, sort_keys=True) for r in again] == \
        [json.dumps(r, sort_keys=True) for r in first]


def test_local_path_does_not_load_distributed(tmp_path):
    code = ("import sys; sys.path.insert(0, 'tests'); from conftest import make_tiny; "
            "from ugc_lib import sweep; sweep([make_tiny()], [0], cache_dir=None); "
            "print('distributed' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "UGC_NO_PROGRESS": "1"}
    env.pop(cluster.ENV_SCHEDULER, None)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, text=True,
                         capture_output=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- on a LocalCluster


@pytest.fixture(scope="module")
def local_cluster():
    """Two worker processes with one thread each. dask's own OMP_NUM_THREADS=1 for
    nanny-spawned workers is switched off, so the pinning in cluster.py is what is tested."""
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.nanny.pre-spawn-environ": {}}):
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=None, silence_logs=logging.ERROR) as lc:
            yield lc
            cluster.close_clients()


def _configs():
    """Two configs, the first repeated: a sweep may hold the same run twice."""
    tiny = make_tiny()
    return [tiny, make_tiny(**{"objective.method": "inverse_freq", "name": "tiny_iw"}), tiny]


@pytest.fixture(scope="module")
def local_records():
    return sweep(_configs(), range(3), cache_dir=None, progress=False)


def test_cluster_records_identical_to_local(local_cluster, local_records, tmp_path):
    address = local_cluster.scheduler_address
    remote = sweep(_configs(), range(3), cache_dir=tmp_path, progress=False, scheduler=address)
    assert [(r["config"]["name"], r["seed"]) for r in remote] == \
        [(r["config"]["name"], r["seed"]) for r in local_records]
    assert [_canon(r) for r in remote] == [_canon(r) for r in local_records]
    # the client wrote every record to its cache (workers write nothing)
    keys = sorted({f"{cache_key(cfg, s)}.json" for cfg in _configs() for s in range(3)})
    assert len(keys) == 6 and sorted(p.name for p in tmp_path.iterdir()) == keys
    for cfg, rec in zip([c for c in _configs() for _ in range(3)], remote):
        assert read_cached(tmp_path / f"{cache_key(cfg, rec['seed'])}.json") == \
            json.loads(json.dumps(rec))


def thread_counts_in_task(chunk: list) -> list:
    """A stand-in chunk runner: the thread counts a run would see."""
    return [cluster.thread_counts() for _ in chunk]


def where_it_ran(chunk: list) -> list:
    """A stand-in chunk runner: which worker took each run (no training, no CUDA)."""
    from distributed import get_worker

    return [{"worker": get_worker().name, "device": cfg.train.device, "seed": seed}
            for cfg, seed in chunk]


@pytest.fixture
def by_value():
    """Ship this module's stand-in runners to the workers by value (they cannot import it)."""
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    yield
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def test_tasks_pin_torch_and_blas_to_one_thread(local_cluster, by_value):
    pairs = [(make_tiny(), s) for s in range(8)]
    counts = dict(cluster.run_pairs(thread_counts_in_task, pairs, local_cluster.scheduler_address))
    assert sorted(counts) == list(range(8))
    assert all(c == {"torch": 1, "blas": 1} for c in counts.values()), counts


def _gone(pid: int) -> bool:
    """The process has exited (a zombie not yet reaped by its nanny counts as exited)."""
    import psutil

    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_killed_worker_does_not_lose_the_sweep(local_cluster, tmp_path):
    from distributed import Client

    address = local_cluster.scheduler_address
    cfgs = [make_tiny(**{"train.robust_epochs": 12, "name": "longer"})]
    seeds = range(8)
    expected = sweep(cfgs, seeds, cache_dir=None, progress=False)
    killed: dict = {}

    def kill_a_busy_worker() -> None:
        """SIGKILL the first worker seen running one of the sweep's tasks."""
        with Client(address, set_as_default=False) as spy:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not killed:
                busy = {w: ks for w, ks in spy.processing().items()
                        if any(str(k).startswith("ugc-runs-") for k in ks)}
                if busy:
                    worker = sorted(busy)[0]
                    pid = spy.run(os.getpid, workers=[worker])[worker]
                    os.kill(pid, signal.SIGKILL)
                    killed.update(worker=worker, pid=pid, tasks=list(busy[worker]))
                time.sleep(0.01)

    spy = threading.Thread(target=kill_a_busy_worker)
    spy.start()
    try:
        remote = sweep(cfgs, seeds, cache_dir=tmp_path, progress=False, scheduler=address)
    finally:
        spy.join()
    assert killed, "no worker was seen running a task"
    assert _gone(killed["pid"])
    # the killed worker's task was taken back from it and run again elsewhere
    log = cluster.get_client(address).run_on_scheduler(
        lambda dask_scheduler: [(t.key, t.start, t.finish) for t in dask_scheduler.transition_log])
    moved = [(k, a, b) for k, a, b in log if k in killed["tasks"] and a == "processing"]
    assert any(b != "memory" for _, _, b in moved), moved
    assert [_canon(r) for r in remote] == [_canon(r) for r in expected]
    assert len(list(tmp_path.glob("*.json"))) == len(seeds)
    cluster.get_client(address).wait_for_workers(2, timeout=120)  # the nanny restarted it


def test_cuda_runs_go_to_gpu_workers(local_cluster, by_value):
    address = local_cluster.scheduler_address
    cpu, gpu = make_tiny(), make_tiny(**{"train.device": "cuda", "name": "tiny_cuda"})
    pairs = [(gpu, s) for s in range(6)] + [(cpu, s) for s in range(6)]
    client = cluster.get_client(address)
    with pytest.raises(ValueError, match="--resources GPU=1"):
        cluster.run_pairs(where_it_ran, pairs, address)  # no GPU worker yet: fails at once
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    worker = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
         "--resources", "GPU=1", "--name", "gpu-worker", "--no-dashboard"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client.wait_for_workers(3, timeout=120)
        got = dict(cluster.run_pairs(where_it_ran, pairs, address))
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        deadline = time.monotonic() + 60  # later tests expect the two workers of the fixture
        while len(client.nthreads()) > 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    assert sorted(got) == list(range(len(pairs)))
    assert {got[i]["worker"] for i in range(6)} == {"gpu-worker"}
    assert all(got[i]["device"] == "cuda" and got[i]["seed"] == i for i in range(6))
    assert all(got[i]["device"] == "cpu" for i in range(6, 12))


def test_run_all_exports_a_live_scheduler(local_cluster, monkeypatch, tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("run_all", ROOT / "run_all.py")
    run_all = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_all)
    seen = []
    monkeypatch.setenv(cluster.ENV_SCHEDULER, "off")  # restored after the test
    monkeypatch.setattr(run_all, "execute", lambda name, *a, **k: seen.append(
        os.environ[cluster.ENV_SCHEDULER]) or ("failed", 0.1, "stop"))
    address = local_cluster.scheduler_address
    assert run_all.main(["--only", "05", "--jobs", "1", "--scheduler", address,
                         "--out", str(tmp_path)]) == 1
    assert seen == [address]


def test_benchmark_on_cluster_compares_with_local(local_cluster):
    from ugc_lib import bench_distributed

    cfg = bench_distributed.bench_config()
    local = sweep([cfg], range(6), cache_dir=None, progress=False, scheduler=False)
    raw = bench_distributed.on_cluster(local_cluster.scheduler_address, 6, local, idle_seconds=0.5)
    row = bench_distributed.compare(raw, 6, 3.0, 2.0)
    assert row["records_identical"] is True
    assert row["cpu_seconds"] > 0 and row["idle_cpu_per_second"] >= 0
    assert row["cpu_overhead_beyond_idle_seconds_per_run"] == pytest.approx(
        (row["cpu_seconds"] - row["idle_cpu_per_second"] * row["seconds"] - 2.0) / 6)
    assert row["cpu_overhead_seconds_per_run"] == pytest.approx((row["cpu_seconds"] - 2.0) / 6)
    assert (row["workers"], row["threads"]) == (2, 2)
    assert row["speedup"] == pytest.approx(3.0 / row["seconds"])
    assert row["overhead_seconds_per_run"] == pytest.approx((2 * row["seconds"] - 3.0) / 6)


def test_benchmark_rejects_unreachable_scheduler_first(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks import run as bench_run
    from ugc_lib import bench

    monkeypatch.setattr(bench, "run_benchmarks", lambda **k: pytest.fail("benchmarked"))
    monkeypatch.setenv(cluster.ENV_TIMEOUT, "1")
    address = f"tcp://127.0.0.1:{_free_port()}"
    with pytest.raises(SystemExit, match=f"--scheduler: no Dask scheduler answered at {address}"):
        bench_run.main(["--quick", "--out", str(tmp_path / "b.json"), "--scheduler", address])
