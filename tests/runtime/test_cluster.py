"""The executor on a Dask cluster (``--scheduler``): the local numbers, the data sent once,
failures and Ctrl-C as locally, and one-line errors for what can go wrong before a job runs.

One ``LocalCluster`` on loopback for the module: two worker processes, one thread each.
"""

import csv
import json
import socket
import sys
from pathlib import Path

import pytest

from nnfit.errors import NnfitError
from nnfit.runtime.cluster import check_cluster
from nnfit.runtime.executor import run_jobs
from nnfit.runtime.jobs import Interrupted, JobFailed

ROOT = Path(__file__).parents[2]
IRIS = ROOT / "sample_data" / "iris.csv"


@pytest.fixture(scope="module")
def scheduler():
    """The address of a running two-worker cluster (skipped without the extra)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  worker_dashboard_address=None) as cluster:
        yield cluster.scheduler_address


@pytest.fixture
def iris_config(tmp_path):
    path = tmp_path / "iris.yaml"
    path.write_text("data: {target: species}\n"
                    "model: {layers: [{type: dense, units: 8, activation: relu}]}\n"
                    "training: {lr: 0.02, epochs: 12, batch_size: 16, "
                    "early_stopping: {patience: 3}}\n")
    return path


def cli(*args):
    from typer.testing import CliRunner

    from nnfit.cli.app import app

    return CliRunner(env={"NO_COLOR": "1", "COLUMNS": "120", "NNFIT_DEBUG": ""}).invoke(
        app, [str(a) for a in args])


def _rows(path: Path, drop=("seconds",)) -> list[dict]:
    with open(path) as fh:
        return [{k: v for k, v in row.items() if k not in drop} for row in csv.DictReader(fh)]


def test_a_curve_on_the_cluster_gives_the_numbers_of_one_local_process(scheduler, iris_config,
                                                                       tmp_path):
    common = ("curve", iris_config, IRIS, "--sizes", "0.3,1", "--repeats", "2")
    here = cli(*common, "--jobs", "1", "-o", tmp_path / "here")
    there = cli(*common, "--scheduler", scheduler, "--scheduler-timeout", "5",
                "-o", tmp_path / "there")
    assert here.exit_code == there.exit_code == 0, here.stderr + there.stderr
    assert len(_rows(tmp_path / "here" / "curve.csv")) == 4
    assert _rows(tmp_path / "there" / "curve.csv") == _rows(tmp_path / "here" / "curve.csv")
    assert there.stderr.count("seed ") == 4  # one progress line per run, as they finished
    record = json.loads((tmp_path / "there" / "curve.json").read_text())
    assert (record["scheduler"], record["jobs"]) == (scheduler, None)


def test_cross_validation_on_the_cluster_gives_the_local_folds_and_model(scheduler, iris_config,
                                                                         tmp_path):
    common = ("train", iris_config, IRIS, "--cv", "3", "--no-probe", "-q")
    here = cli(*common, "--jobs", "1", "-o", tmp_path / "here")
    there = cli(*common, "--scheduler", scheduler, "-o", tmp_path / "there")
    assert here.exit_code == there.exit_code == 0, here.stderr + there.stderr
    assert _rows(tmp_path / "there" / "cv.csv") == _rows(tmp_path / "here" / "cv.csv")
    assert (tmp_path / "there" / "model.npz").read_bytes() == \
        (tmp_path / "here" / "model.npz").read_bytes()


class Counted:
    """Shared data that counts how often this process serializes it."""

    pickled = 0

    def __init__(self, factor):
        self.factor = factor

    def __reduce__(self):
        Counted.pickled += 1
        return Counted, (self.factor,)


def _scaled(shared, x):
    return shared.factor * x


def test_the_shared_data_travels_once_not_once_per_job(scheduler):
    Counted.pickled = 0
    seen = []
    results = run_jobs(_scaled, list(range(8)), on_result=lambda i, r: seen.append(i),
                       scheduler=scheduler, shared=Counted(3))
    assert results == [3 * x for x in range(8)] and sorted(seen) == list(range(8))
    assert 1 <= Counted.pickled <= 2  # once, or once per worker: not eight times


def _picky(_, x):
    if x == "usage":
        raise NnfitError("a user error in one job")
    if x == "bug":
        raise RuntimeError("a bug")
    return x


def test_failures_come_back_as_locally(scheduler):
    results = run_jobs(_picky, ["a", "usage", "b"], scheduler=scheduler, shared=0)
    assert results == ["a", JobFailed(1, "NnfitError", "a user error in one job"), "b"]
    with pytest.raises(RuntimeError, match="a bug"):
        run_jobs(_picky, ["a", "bug"], scheduler=scheduler, shared=0)


def test_ctrl_c_cancels_the_rest_and_keeps_what_finished(scheduler):
    def on_result(index, result):
        raise KeyboardInterrupt

    with pytest.raises(Interrupted) as caught:
        run_jobs(_picky, list("abcdef"), on_result=on_result, scheduler=scheduler, shared=0)
    finished = [r for r in caught.value.results if r is not None]
    assert len(finished) == 1 and finished[0] in "abcdef"


def test_workers_with_another_nnfit_are_refused_in_one_line(scheduler, monkeypatch):
    import nnfit
    import nnfit.runtime.cluster

    # this process claims another version; the workers import the real one
    monkeypatch.setattr(nnfit, "__version__", "0.0.0-other")
    monkeypatch.setattr(nnfit.runtime.cluster, "__version__", "0.0.0-other")
    with pytest.raises(NnfitError) as caught:
        run_jobs(_picky, ["a"], scheduler=scheduler, shared=0)
    message = caught.value.message
    # (the LocalCluster's scheduler runs in this process, and sees the patched version)
    assert message.startswith(f"{scheduler}: 2 workers (tcp://127.0.0.1:")
    assert "run nnfit 0.1.0, this is nnfit 0.0.0-other; install the same version" in message
    assert "\n" not in message


def test_an_unreachable_scheduler_is_one_line_and_writes_nothing(iris_config, tmp_path,
                                                                  monkeypatch):
    pytest.importorskip("distributed")
    with socket.socket() as s:  # a loopback port nothing listens on
        s.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.chdir(tmp_path)
    shown = cli("curve", iris_config, IRIS, "--scheduler", address, "--scheduler-timeout", "1")
    assert shown.exit_code == 2
    assert shown.stderr.startswith(f"{address}: cannot reach the Dask scheduler within 1 s (")
    assert shown.stderr.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["iris.yaml"]  # no run directory


def test_without_the_extra_the_message_says_what_to_install(iris_config, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    monkeypatch.chdir(tmp_path)
    shown = cli("train", iris_config, IRIS, "--cv", "3", "--scheduler", "tcp://127.0.0.1:8786")
    assert shown.exit_code == 2
    assert shown.stderr == ('--scheduler tcp://127.0.0.1:8786: running on a Dask cluster needs '
                            'the distributed extra: pip install "nnfit[distributed]"\n')


@pytest.mark.parametrize("args, message", [
    (("curve", "--scheduler", "tcp://h:1", "--jobs", "2"),
     "--jobs: with --scheduler tcp://h:1 the cluster's workers run the jobs"),
    (("curve", "--scheduler-timeout", "3"), "--scheduler-timeout: waits for the Dask scheduler"),
    (("curve", "--scheduler", "tcp://h:1", "--scheduler-timeout", "0"),
     "--scheduler-timeout must be a positive number of seconds (got 0.0)"),
    (("curve", "--scheduler", "tcp://h"), "--scheduler tcp://h: not a Dask scheduler address"),
    (("train", "--scheduler", "tcp://h:1"),
     "--scheduler: runs the folds of --cv or the members of training.ensemble"),
])
def test_options_that_do_not_go_together_are_one_line_errors(args, message, iris_config,
                                                              tmp_path, monkeypatch):
    if "not a Dask scheduler address" in message:
        pytest.importorskip("distributed")
    monkeypatch.chdir(tmp_path)
    shown = cli(args[0], iris_config, IRIS, *args[1:])
    assert shown.exit_code == 2
    assert shown.stderr.startswith(message) and shown.stderr.count("\n") == 1


def test_the_cluster_check_names_the_culprit_and_the_fix():
    missing = ModuleNotFoundError("No module named 'nnfit'")
    with pytest.raises(NnfitError, match=r"^tcp://s:1: worker tcp://w:2 runs 4 threads; nnfit "
                                         r"needs one thread per worker process .* dask worker "
                                         r"tcp://s:1 --nworkers N --nthreads 1$"):
        check_cluster("tcp://s:1", "0.1.0", {"tcp://w:2": "0.1.0"}, {"tcp://w:2": 4})
    with pytest.raises(NnfitError, match=r"^tcp://s:1: this nnfit \(0.1.0\) does not import on "
                                         r"worker tcp://w:3 \(No module named 'nnfit'\)"):
        check_cluster("tcp://s:1", "0.1.0", {"tcp://w:2": "0.1.0", "tcp://w:3": missing},
                      {"tcp://w:2": 1, "tcp://w:3": 1})
    with pytest.raises(NnfitError, match=r"^tcp://s:1: the Dask scheduler cannot import this "
                                         r"nnfit \(No module named 'nnfit'\); it unpickles "
                                         r"every job, so install this nnfit where it runs$"):
        check_cluster("tcp://s:1", missing, {"tcp://w:2": "0.1.0"}, {"tcp://w:2": 1})
    check_cluster("tcp://s:1", "0.1.0", {"tcp://w:2": "0.1.0"}, {"tcp://w:2": 1})  # all well



def test_a_sweep_on_the_cluster_gives_the_table_of_the_local_sweep(scheduler, iris_config,
                                                                  tmp_path):
    local, remote = tmp_path / "local", tmp_path / "remote"
    common = ("sweep", iris_config, IRIS, "--lr", "0.003", "--lr", "0.03", "--lr", "0.3")
    assert cli(*common, "--jobs", "1", "--out", local).exit_code == 0
    result = cli(*common, "--scheduler", scheduler, "--out", remote)
    assert result.exit_code == 0, result.output
    assert _rows(remote / "sweep.csv") == _rows(local / "sweep.csv")
    assert (remote / "best" / "model.npz").read_bytes() == (local / "best" / "model.npz").read_bytes()


def test_a_listener_that_never_answers_is_refused_within_the_timeout(tmp_path):
    """An address where something accepts connections but never speaks Dask (an HTTP
    server, a half-open port) used to hang until killed: one overall deadline now."""
    import subprocess
    import threading
    import time

    from nnfit.runtime.cluster import GRACE, connect

    pytest.importorskip("distributed")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list = []
    threading.Thread(target=lambda: [held.append(listener.accept()) for _ in range(8)],
                     daemon=True).start()
    address = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    started = time.monotonic()
    with pytest.raises(NnfitError, match=r"no answer from a Dask scheduler within 1 s"):
        connect(address, 1.0)
    assert time.monotonic() - started < 1.0 + GRACE + 1.0  # the timeout + 2 s at most
    nnfit = Path(sys.executable).parent / "nnfit"
    done = subprocess.run([str(nnfit), "train", str(ROOT / "configs" / "iris.yaml"), str(IRIS),
                           "--cv", "3", "--scheduler", address, "--scheduler-timeout", "1",
                           "--out", str(tmp_path / "out")], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and not (tmp_path / "out").exists()
    assert done.stderr.strip().splitlines()[-1].startswith(
        f"{address}: no answer from a Dask scheduler within 1 s")
    assert "Traceback" not in done.stderr
    listener.close()


def test_a_cancelled_job_names_the_real_cause():
    from types import SimpleNamespace

    from nnfit.runtime.cluster import _cancelled_cause

    gone = SimpleNamespace(status="closed", scheduler=SimpleNamespace(address="tcp://s:1"))
    assert _cancelled_cause(gone, 2, RuntimeError("x")) == (
        "tcp://s:1: the Dask scheduler went away while job 3 ran (the connection to it was "
        "lost); the jobs that finished are kept")
    alive = SimpleNamespace(status="running", scheduler=SimpleNamespace(address="tcp://s:1"))
    assert _cancelled_cause(alive, 0, RuntimeError("by hand")) == (
        "tcp://s:1: the cluster cancelled job 1 (by hand) while the scheduler still answers; "
        "the jobs that finished are kept")


def test_a_scheduler_that_dies_mid_sweep_is_one_line_not_a_traceback(tmp_path):
    import subprocess
    import time

    pytest.importorskip("distributed")
    bin_dir = Path(sys.executable).parent
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen([str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1",
                                  "--port", str(port), "--no-dashboard"], **quiet)
    worker = subprocess.Popen([str(bin_dir / "dask"), "worker", address, "--nworkers", "1",
                               "--nthreads", "1", "--no-dashboard"], **quiet)
    config = tmp_path / "long.yaml"
    config.write_text("data: {target: species}\n"
                      "training: {epochs: 100000, batch_size: 1, early_stopping: false}\n")
    try:
        sweep = subprocess.Popen([str(bin_dir / "nnfit"), "sweep", str(config), str(IRIS),
                                  "--lr", "0.001", "--repeats", "1", "--scheduler", address,
                                  "--scheduler-timeout", "20", "--out", str(tmp_path / "s")],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (tmp_path / "s" / "sweep_plan.json").exists():
            time.sleep(0.2)  # connected: its jobs are on the cluster
        time.sleep(2)
        scheduler.kill()
        _, stderr = sweep.communicate(timeout=60)
    finally:
        for process in (scheduler, worker):
            process.kill()
            process.wait()
    assert sweep.returncode == 1
    assert stderr.strip().splitlines()[-1] == (
        f"{address}: the Dask scheduler went away while job 1 ran (the connection to it was "
        f"lost); the jobs that finished are kept")
    assert "Traceback" not in stderr and " - ERROR - " not in stderr
