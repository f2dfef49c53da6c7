"""The executor: N independent jobs, here or in worker processes, results as they finish."""

import signal
from pathlib import Path

import numpy as np
import pytest

from nnfit.config.load import load_config
from nnfit.errors import NnfitError
from nnfit.runtime.executor import run_jobs
from nnfit.runtime.jobs import Interrupted, JobFailed
from nnfit.workflows import prepare
from nnfit.workflows.curve import curve_job, curve_jobs

IRIS = Path(__file__).parents[2] / "sample_data" / "iris.csv"


def _square(x):
    return x * x


def test_results_come_back_in_job_order_and_each_is_announced_once():
    seen = []
    results = run_jobs(_square, [3, 1, 4, 1, 5], on_result=lambda i, r: seen.append((i, r)))
    assert results == [9, 1, 16, 1, 25]
    assert sorted(seen) == [(0, 9), (1, 1), (2, 16), (3, 1), (4, 25)]


def _picky(x):
    if x == "usage":
        raise NnfitError("--sizes 0.01: keeps 1 of the 105 training rows")
    if x == "value":
        raise ValueError("y has 3 rows but X has 4")
    if x == "bug":
        raise RuntimeError("a bug")
    return x


def test_a_job_that_raises_a_user_error_comes_back_failed_and_the_others_run():
    seen = []
    results = run_jobs(_picky, ["a", "usage", "value", "b"], on_result=lambda i, r: seen.append(i))
    assert results[0] == "a" and results[3] == "b" and sorted(seen) == [0, 1, 2, 3]
    assert results[1] == JobFailed(1, "NnfitError", "--sizes 0.01: keeps 1 of the 105 training rows")
    assert (results[2].error, str(results[2])) == ("ValueError", "y has 3 rows but X has 4")


def test_any_other_exception_is_a_bug_and_is_raised():
    with pytest.raises(RuntimeError, match="a bug"):
        run_jobs(_picky, ["a", "bug"])


def _scaled(factor, x):
    return factor * x


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_the_shared_object_is_handed_to_every_job_beside_its_own_argument(n_jobs):
    assert run_jobs(_scaled, [1, 2, 3], n_jobs=n_jobs, shared=10) == [10, 20, 30]


def _blas_threads(_):
    from threadpoolctl import threadpool_info

    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def test_every_job_runs_on_one_blas_thread():
    assert run_jobs(_blas_threads, [0, 1]) == [{1}, {1}]


@pytest.mark.parametrize("n_jobs", [0, -1, 1.5, True])
def test_a_bad_job_count_is_a_user_error(n_jobs):
    with pytest.raises(NnfitError, match="--jobs must be a positive integer"):
        run_jobs(_square, [1], n_jobs=n_jobs)


def test_ctrl_c_keeps_what_finished():
    def job(x):
        if x == 2:
            raise KeyboardInterrupt
        return x

    with pytest.raises(Interrupted) as caught:
        run_jobs(job, [0, 1, 2, 3])
    assert caught.value.results == [0, 1, None, None]
    assert isinstance(caught.value, KeyboardInterrupt)  # uncaught, it is a plain Ctrl-C


def test_a_job_that_swallows_ctrl_c_is_dropped_as_unfinished():
    """fit() catches KeyboardInterrupt and returns a half-trained result: not a finished job."""
    def job(x):
        if x == 1:
            try:
                signal.raise_signal(signal.SIGINT)  # as a Ctrl-C during training
            except KeyboardInterrupt:
                return "half-trained"
        return x

    with pytest.raises(Interrupted) as caught:
        run_jobs(job, [0, 1, 2])
    assert caught.value.results == [0, None, None]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


def test_two_worker_processes_give_the_numbers_of_one_in_process():
    config = load_config_text("data: {target: species}\n"
                              "model: {layers: [{type: dense, units: 8, activation: relu}]}\n"
                              "training: {lr: 0.02, epochs: 5, batch_size: 16}\n")
    prepared = prepare(config, IRIS)
    jobs = curve_jobs(prepared, config, [0.3, 1.0], repeats=2)
    arrived = []
    here_rows = run_jobs(curve_job, jobs, n_jobs=1, shared=prepared)
    here = [r.record for r in here_rows]
    there_rows = run_jobs(curve_job, jobs, n_jobs=2, on_result=lambda i, r: arrived.append(i),
                          shared=prepared)
    there = [r.record for r in there_rows]
    for a, b in zip(here_rows, there_rows, strict=True):  # the per-row losses the verdict pools, too
        np.testing.assert_array_equal(a.val_rows, b.val_rows)
    assert sorted(arrived) == [0, 1, 2, 3]
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in here]
    assert [{k: v for k, v in r.items() if k != "seconds"} for r in there] == strip
    assert [(r["size"], r["seed"]) for r in there] == [(1.0, 0), (1.0, 1), (0.3, 0), (0.3, 1)]
    assert len({r["val_loss"] for r in there}) == 4  # four different fits, not one four times


def load_config_text(text):
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.yaml"
        path.write_text(text)
        return load_config(path)


def dies_on_two(job):
    import os
    import signal

    if job == 2:
        os.kill(os.getpid(), signal.SIGKILL)  # a worker killed from outside, or by the OOM killer
    return job * 10


def test_a_job_whose_worker_dies_is_failed_and_the_others_finish():
    from nnfit.runtime.executor import DIED, run_jobs
    from nnfit.runtime.jobs import JobFailed

    seen = []
    results = run_jobs(dies_on_two, range(5), n_jobs=2, on_result=lambda i, r: seen.append(i))
    assert results[:2] == [0, 10] and results[3:] == [30, 40]
    assert isinstance(results[2], JobFailed) and results[2].message == DIED
    assert sorted(seen) == [0, 1, 2, 3, 4]  # each job reported exactly once


def test_a_job_cut_short_by_another_jobs_death_runs_again():
    from nnfit.runtime.executor import run_jobs
    from nnfit.runtime.jobs import JobFailed

    results = run_jobs(dies_on_two, [2, 5, 6, 7], n_jobs=2)
    assert isinstance(results[0], JobFailed) and results[1:] == [50, 60, 70]
