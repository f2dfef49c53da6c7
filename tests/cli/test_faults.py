"""Faults: a full disk, an unwritable --out, SIGKILL during training and during the save.
Each ends in one line and a non-zero exit, and never leaves a half-written file."""

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import NNFIT, ROOT, cli

IRIS = ROOT / "sample_data" / "iris.csv"


def _no_partial_files(run):
    names = {p.name for p in run.iterdir()} if run.exists() else set()
    assert not [n for n in names if n.endswith(".tmp")], names
    return names


def test_an_unwritable_out_fails_before_training(tmp_path, small_config, monkeypatch):
    import nnfit.store.run_dir as store

    def refuse(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(store.Path, "touch", refuse)
    done = cli("train", small_config, IRIS, "--out", tmp_path / "run")
    assert done.returncode == 2  # the user's --out to fix, as every misplaced --out
    assert done.stderr.strip().splitlines()[-1] == (
        f"{tmp_path / 'run'}: cannot write into the run directory (Permission denied)")
    assert _no_partial_files(tmp_path / "run") == set()  # nothing trained, nothing written


@pytest.mark.parametrize("place,message", [
    ("dangling", "--out {out}: a symbolic link to {tmp}/gone, which does not exist; give a "
                 "directory"),
    ("inside", "--out {out}: is inside the run directory {tmp}/run, which nnfit never writes to "
               "after training; choose a directory outside it"),
    ("proc", "{out}: cannot create the run directory (No such file or directory)"),
])
def test_a_misplaced_out_is_one_line_and_exit_2(tmp_path, small_config, place, message):
    out = {"dangling": tmp_path / "link", "inside": tmp_path / "run" / "sub",
           "proc": Path("/proc/nnfit-no-such")}[place]
    if place == "dangling":
        out.symlink_to(tmp_path / "gone")
    if place == "inside":
        (tmp_path / "run").mkdir()
        (tmp_path / "run" / "model.json").write_text("{}")
    done = cli("train", small_config, IRIS, "--out", out)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == message.format(out=out, tmp=tmp_path)
    assert not (tmp_path / "gone").exists() and not (tmp_path / "run" / "sub").exists()


def test_a_full_disk_during_the_save_is_one_line_and_leaves_no_partial_model(tmp_path, small_config,
                                                                            monkeypatch):
    import nnfit.store.atomic as store

    real_fsync = os.fsync

    def full(fd):
        if os.readlink(f"/proc/self/fd/{fd}").endswith(".tmp") and \
                ".model.npz." in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(store.os, "fsync", full)
    run = tmp_path / "run"
    done = cli("train", small_config, IRIS, "--out", run, "-q")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        f"{run / 'model.npz'}: cannot write (No space left on device)")
    names = _no_partial_files(run)
    assert "model.npz" not in names and "model.json" not in names


def test_a_full_disk_during_training_keeps_whole_history_rows(tmp_path):
    from nnfit.errors import NnfitError
    from nnfit.store.history import HistoryWriter

    path = tmp_path / "history.csv"
    writer = HistoryWriter(path)
    writer.on_train_begin(None)
    writer.on_epoch_end(1, {"epoch": 1, "train_loss": 0.5})
    real = writer._file

    class Full:  # writes half the line, then the disk is full
        def write(self, text):
            real.write(text[: len(text) // 2])
            real.flush()

        def flush(self):
            raise OSError(errno.ENOSPC, "No space left on device")

        def tell(self):
            return real.tell()

    writer._file = Full()
    with pytest.raises(NnfitError, match="history.csv: cannot write \\(No space left on device\\)"):
        writer.on_epoch_end(2, {"epoch": 2, "train_loss": 0.25})
    assert path.read_text() == "epoch,train_loss\n1,0.5\n"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigkill_during_training_leaves_history_rows_whole_and_no_model(tmp_path):
    config = tmp_path / "slow.yaml"
    config.write_text("data: {target: species}\n"
                      "model: {layers: [{type: dense, units: 64, activation: relu}]}\n"
                      "training: {epochs: 100000, batch_size: 1, early_stopping: false}\n")
    run = tmp_path / "run"
    proc = subprocess.Popen([str(NNFIT), "train", str(config), str(IRIS), "--out", str(run), "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    history = run / "history.csv"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not history.exists() or
                                           history.read_text().count("\n") < 3):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    lines = history.read_text().splitlines()
    assert len(lines) >= 3 and all(len(line.split(",")) == len(lines[0].split(",")) for line in lines)
    names = _no_partial_files(run)
    assert "model.npz" not in names and "model.json" not in names


SAVE_THEN_HANG = """
import os, sys, time
import nnfit.store.atomic as store
marker, real = sys.argv[-1], os.replace
def slow(src, dst):
    if str(dst).endswith("model.npz"):
        open(marker, "w").close()  # tell the parent: model.npz is being written
        time.sleep(60)
    return real(src, dst)
store.os.replace = slow
from nnfit.cli.app import main
sys.argv = ["nnfit", *sys.argv[1:-1]]
main()
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigkill_during_the_save_leaves_no_partial_model_file(tmp_path, small_config):
    run, marker = tmp_path / "run", tmp_path / "saving"
    proc = subprocess.Popen([sys.executable, "-c", SAVE_THEN_HANG, "train", str(small_config),
                             str(IRIS), "--out", str(run), "-q", str(marker)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not marker.exists():
        time.sleep(0.05)
    assert marker.exists()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    names = {p.name for p in run.iterdir()}
    assert "model.npz" not in names and "model.json" not in names  # never half a model
    # the temp file is whole-or-absent junk, never under the model's name
    assert all(n.startswith(".model.npz.") for n in names if n.endswith(".tmp"))


def _session_processes(sid: int) -> list[int]:
    """Live processes of session ``sid`` (the command and any worker it started)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":  # session id; zombies are gone
            pids.append(int(stat.parent.name))
    return pids


LONG = ("data: {target: species}\n"
        "model: {layers: [{type: dense, units: 64, activation: relu}]}\n"
        "training: {epochs: 100000, batch_size: 1, early_stopping: false}\n")


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
@pytest.mark.parametrize("command,written", [
    (["sweep", "--lr", "0.001", "--lr", "0.002", "--lr", "0.003", "--jobs", "2"], "sweep.csv"),
    (["curve", "--jobs", "2"], "curve.csv"),
    (["train", "--cv", "3", "--jobs", "2", "-q"], "cv.csv"),
])
def test_ctrl_c_stops_many_run_commands_with_130_and_no_orphan_workers(tmp_path, command, written):
    config = tmp_path / "long.yaml"
    config.write_text(LONG)
    out = tmp_path / "out"
    proc = subprocess.Popen([str(NNFIT), command[0], str(config), str(IRIS), *command[1:],
                             "--out", str(out)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(_session_processes(proc.pid)) < 3 \
            and proc.poll() is None:
        time.sleep(0.1)  # the command and its two workers are up
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends: the whole group
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    assert (out / written).exists()  # what finished (the header at least) is on disk
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and _session_processes(proc.pid):
        time.sleep(0.1)
    assert _session_processes(proc.pid) == []  # no worker outlives the command


def test_a_loss_that_blew_up_without_nan_exits_1_like_any_diverged_run(tmp_path, small_config):
    done = cli("train", small_config, IRIS, "--set", "training.optimizer=adam", "--set",
               "model.init=auto", "--lr", "10", "--epochs", "5", "--out", tmp_path / "run")
    assert done.returncode == 1, done.stderr
    assert "the loss blew up without becoming NaN" in done.stdout + done.stderr
    assert (tmp_path / "run" / "model.json").exists()  # saved all the same, to look at



@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
@pytest.mark.parametrize("command,written,signum,code", [
    (["train"], "model.npz", signal.SIGTERM, 143),
    (["sweep", "--lr", "0.001", "--repeats", "1"], "sweep.csv", "ignored SIGINT", 130),
    (["sweep", "--lr", "0.001", "--lr", "0.002", "--jobs", "2", "--repeats", "1"], "sweep.csv",
     signal.SIGTERM, 143),
    (["curve", "--jobs", "2"], "curve.csv", signal.SIGHUP, 129),
], ids=["train TERM", "sweep started with SIGINT ignored", "sweep TERM", "curve HUP"])
def test_sigterm_and_sighup_to_the_parent_stop_like_ctrl_c(tmp_path, command, written, signum,
                                                           code):
    """``kill PID`` reaches the parent alone (no process group): it must save what is done,
    stop its workers and exit 128 + the signal's number. A command started from a script
    with SIGINT ignored still answers it."""
    config = tmp_path / "long.yaml"
    config.write_text(LONG)
    out = tmp_path / "out"
    ignored = signum == "ignored SIGINT"

    def ignore_sigint():
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    proc = subprocess.Popen([str(NNFIT), command[0], str(config), str(IRIS), *command[1:],
                             "--out", str(out)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=ignore_sigint if ignored else None)
    signum = signal.SIGINT if ignored else signum
    wanted = 3 if "--jobs" in command else 1
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(_session_processes(proc.pid)) < wanted \
            and proc.poll() is None:
        time.sleep(0.1)
    time.sleep(2.0)
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    assert (out / written).exists()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and _session_processes(proc.pid):
        time.sleep(0.1)
    assert _session_processes(proc.pid) == []
