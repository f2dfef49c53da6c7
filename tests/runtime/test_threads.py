import multiprocessing as mp
import os
import subprocess
import sys
import types

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from nnfit.nn.build import build_network
from nnfit.runtime import threads
from nnfit.runtime.threads import blas_threads, busy_cpus, choose_threads

BIG = 10 * threads.MIN_PARALLEL_MACS
SMALL = threads.MIN_PARALLEL_MACS - 1


def _machine(monkeypatch, cores, busy=None):
    """Pretend to have ``cores`` usable cores with ``busy`` of them taken (None: must not ask)."""
    monkeypatch.setattr(threads, "usable_cores", lambda: cores)

    def sampler(interval=0.15):
        if busy is None:
            raise AssertionError("the load should not be sampled here")
        return busy
    monkeypatch.setattr(threads, "busy_cpus", sampler)


def test_requested_wins_over_every_other_rule(monkeypatch):
    _machine(monkeypatch, cores=1)
    assert choose_threads(3, SMALL)[0] == 3
    assert choose_threads(1, BIG)[0] == 1
    _machine(monkeypatch, cores=4, busy=None)
    n, reason = choose_threads(2, BIG)
    assert n == 2 and "requested" in reason


@pytest.mark.parametrize("bad", [0, -1, 1.5])
def test_requested_must_be_a_positive_integer(bad):
    with pytest.raises(ValueError, match="positive integer"):
        choose_threads(bad, BIG)


def test_one_usable_core_gives_one_thread(monkeypatch):
    _machine(monkeypatch, cores=1)
    assert choose_threads(None, BIG) == (1, "one usable core")


def test_small_work_gives_one_thread_without_sampling_the_load(monkeypatch):
    _machine(monkeypatch, cores=8)
    n, reason = choose_threads(None, SMALL)
    assert n == 1 and "multiply-adds per batch" in reason


@pytest.mark.parametrize("cores", [2, 4])
def test_large_work_on_an_idle_machine_uses_every_core(monkeypatch, cores):
    _machine(monkeypatch, cores=cores, busy=0.2)
    n, reason = choose_threads(None, BIG)
    assert n == cores and "idle" in reason


@pytest.mark.parametrize("cores, busy, expected", [
    (2, 1.0, 1),   # the case this module exists for: one of two cores taken
    (2, 0.6, 1),   # rounds to one busy core
    (2, 2.0, 1),
    (4, 1.2, 3),   # threads only for the cores nobody else uses
    (4, 2.6, 1),   # one idle core: a second thread would land on a busy one
])
def test_large_work_beside_busy_cores_uses_only_idle_ones(monkeypatch, cores, busy, expected):
    _machine(monkeypatch, cores=cores, busy=busy)
    assert choose_threads(None, BIG)[0] == expected


def test_same_inputs_and_load_give_the_same_answer(monkeypatch):
    _machine(monkeypatch, cores=4, busy=1.4)
    assert len({choose_threads(None, BIG) for _ in range(5)}) == 1


def test_macs_per_row_counts_the_forward_products_the_layers_declare():
    net = build_network([{"type": "dense", "units": 256, "activation": "relu"},
                         {"type": "activation", "activation": "tanh"},
                         {"type": "dense", "units": 128, "activation": "relu"},
                         {"type": "dense", "units": 10}], n_features=100, seed=0)
    assert net.macs_per_row() == 100 * 256 + 256 * 128 + 128 * 10
    # (tokens, dim) inputs: every token row goes through the product
    seq = build_network([{"type": "dense", "units": 8}], input_shape=(5, 3), seed=0)
    assert seq.macs_per_row() == 5 * 3 * 8


def test_attention_products_are_not_counted_yet():
    """The count the thread choice has always made: the tokenizer's x_j·W_j and the dense
    layers, not the attention block's projections or products (counting them moves the
    thread choice of attention configs: a change of its own)."""
    net = build_network([{"type": "tokens", "dim": 16, "cls": True},
                         {"type": "attention", "dim": 16, "heads": 4}, {"type": "pool"},
                         {"type": "dense", "units": 3}], n_features=13, seed=0)
    assert [layer.macs_per_row() for layer in net.layers] == [13 * 16, 0, 0, 16 * 3]
    assert net.macs_per_row() == 13 * 16 + 16 * 3


def test_busy_cpus_counts_our_cpus_and_leaves_out_our_own_time(monkeypatch):
    # cpu0 busy 15 of 15 ticks, cpu1 idle; cpu2 is busy but outside our affinity mask.
    reads = iter([{"cpu0": (0, 0), "cpu1": (0, 0), "cpu2": (0, 0)},
                  {"cpu0": (15, 15), "cpu1": (0, 15), "cpu2": (15, 15)}])
    monkeypatch.setattr(threads, "_cpu_ticks", lambda: next(reads))
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    clock = iter([0.0, 0.15])
    cpu = iter([1.0, 1.03])  # this process: 0.03 s of CPU in 0.15 s = 0.2 CPUs
    monkeypatch.setattr(threads, "time", types.SimpleNamespace(
        sleep=lambda s: None, monotonic=lambda: next(clock), process_time=lambda: next(cpu)))
    assert busy_cpus() == pytest.approx(0.8)


def test_busy_cpus_falls_back_to_the_load_average_without_proc_stat(monkeypatch):
    def no_proc():
        raise OSError("no /proc/stat")
    monkeypatch.setattr(threads, "_cpu_ticks", no_proc)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (1.5, 1.0, 0.5), raising=False)
    assert busy_cpus() == 1.5


def test_busy_cpus_measures_something_plausible_here():
    assert 0.0 <= busy_cpus(0.05) <= threads.usable_cores() + 0.5


def _blas_threads_now():
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def test_blas_threads_sets_the_limit_inside_the_block_and_restores_it():
    import numpy  # noqa: F401  # loads OpenBLAS so threadpoolctl can see it
    if not any(i["internal_api"] == "openblas" for i in threadpool_info()):
        pytest.skip("NumPy is not linked against OpenBLAS here")
    with threadpool_limits(limits=2):
        assert set(_blas_threads_now()) == {2}
        with blas_threads(1) as n:
            assert n == 1
            assert set(_blas_threads_now()) == {1}
        assert set(_blas_threads_now()) == {2}
        with blas_threads(None):
            assert set(_blas_threads_now()) == {2}


def _limited_in_worker(n):
    with threadpool_limits(limits=2):
        with blas_threads(n):
            inside = _blas_threads_now()
        return inside, _blas_threads_now()


def test_blas_threads_works_in_a_worker_process():
    with mp.get_context("spawn").Pool(1) as pool:
        inside, after = pool.apply(_limited_in_worker, (1,))
    assert set(inside) == {1} and set(after) == {2}


def test_importing_the_module_imports_neither_numpy_nor_threadpoolctl():
    code = ("import sys, nnfit.runtime.threads; "
            "print(sorted({'numpy', 'threadpoolctl'} & set(sys.modules)))")
    src = os.path.dirname(os.path.dirname(os.path.dirname(threads.__file__)))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": src}, check=True).stdout
    assert out.strip() == "[]"
