"""Files a user names (`predict -o`, `eval --confusion`, `init -o`): special files are written
straight and never replaced (real processes), an existing file only with --force (in process)."""

import os
import stat
import subprocess
import threading

import pytest
import yaml
from conftest import NNFIT, ROOT, cli

IRIS = ROOT / "sample_data" / "iris.csv"


@pytest.fixture(scope="module")
def iris_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("outputs")
    config = root / "iris.yaml"
    config.write_text("data: {target: species}\nmodel: {layers: [{type: dense, units: 8, "
                      "activation: relu}]}\ntraining: {lr: 0.02, epochs: 5, batch_size: 16}\n")
    run = root / "run"
    result = cli("train", config, IRIS, "--out", run, "-q")
    assert result.returncode == 0, result.stderr
    return run


def _process(*args, **kwargs):
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}
    env.pop("NNFIT_DEBUG", None)
    return subprocess.Popen([str(NNFIT), *map(str, args)], env=env, **kwargs)


def _run(*args, **kwargs):
    proc = _process(*args, stderr=subprocess.PIPE, **kwargs)
    _, err = proc.communicate(timeout=240)
    return proc.returncode, err.decode()


def _through_fifo(fifo, *args):
    """Run nnfit with a reader on ``fifo``: ``(exit code, stderr, what the reader got)``."""
    got: list[bytes] = []

    def read():
        with open(fifo, "rb") as fh:
            got.append(fh.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    code, err = _run(*args, stdout=subprocess.DEVNULL)
    if reader.is_alive() and not got:  # nnfit never opened it: let the reader go
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    reader.join(timeout=60)
    return code, err, b"".join(got)


# -- special files: real processes ----------------------------------------------------------
def test_a_fifo_is_written_straight_and_stays_a_fifo(tmp_path, iris_run):
    expected = cli("predict", iris_run, IRIS).stdout
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    for args, wanted in [(("predict", iris_run, IRIS, "-o", fifo), expected),
                         (("eval", iris_run, IRIS, "--confusion", fifo, "--json"),
                          "true\\predicted,setosa,versicolor,virginica\n")]:
        code, err, got = _through_fifo(fifo, *args)
        assert code == 0, err
        assert got.decode().startswith(wanted) and f"to {fifo}" in err
        assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # not replaced by a regular file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.fifo"]  # no temp file left


def test_stdout_and_open_descriptors_are_written_where_they_stand(tmp_path, iris_run):
    expected = cli("predict", iris_run, IRIS).stdout
    for name in ("-", "/dev/stdout"):
        proc = _process("predict", iris_run, IRIS, "-o", name, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE)
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0 and out.decode() == expected, err
    # stdout redirected to a file the shell opened for appending (>>): appended, not replaced
    kept = tmp_path / "log.csv"
    kept.write_text("earlier line\n")
    with open(kept, "ab") as fh:
        code, err = _run("predict", iris_run, IRIS, "-o", "/dev/stdout", stdout=fh)
    assert code == 0, err
    assert kept.read_text() == "earlier line\n" + expected
    # a pipe passed as descriptor N, as bash's >(cmd) does with /dev/fd/63
    read_end, write_end = os.pipe()
    proc = _process("predict", iris_run, IRIS, "-o", f"/dev/fd/{write_end}",
                    pass_fds=(write_end,), stderr=subprocess.PIPE)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        got = pipe.read()
    assert proc.wait(timeout=240) == 0, proc.stderr.read() if proc.stderr else ""
    proc.stderr.close()
    assert got.decode() == expected


def test_a_descriptor_that_is_not_open_is_one_line(iris_run):
    code, err = _run("predict", iris_run, IRIS, "-o", "/dev/fd/97")
    assert (code, err) == (2, "-o /dev/fd/97: file descriptor 97 is not open\n")


# -- existing files: in process -------------------------------------------------------------
def _one_line(result, code=2):
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_predict_and_eval_refuse_an_existing_file_without_force(tmp_path, iris_run):
    keep = tmp_path / "keep.csv"
    keep.write_text("my data\n")
    line = _one_line(cli("predict", iris_run, IRIS, "-o", keep))
    assert line == f"{keep}: already exists; pass --force to overwrite it, or -o another file"
    line = _one_line(cli("eval", iris_run, IRIS, "--confusion", keep))
    assert line == (f"{keep}: already exists; pass --force to overwrite it, or --confusion "
                    f"another file")
    assert keep.read_text() == "my data\n" and os.listdir(tmp_path) == ["keep.csv"]
    link = tmp_path / "link.csv"
    link.symlink_to(tmp_path / "nowhere.csv")  # a dangling symlink is a name taken too
    assert _one_line(cli("predict", iris_run, IRIS, "-o", link)).startswith(
        f"{link}: already exists")

    result = cli("predict", iris_run, IRIS, "-o", keep, "--force")
    assert result.returncode == 0, result.stderr
    assert keep.read_text() == cli("predict", iris_run, IRIS).stdout
    result = cli("eval", iris_run, IRIS, "--confusion", keep, "--force")
    assert result.returncode == 0, result.stderr
    assert keep.read_text().startswith("true\\predicted,setosa,versicolor,virginica\n")


def test_a_new_file_is_written_and_the_checks_on_it_come_first(tmp_path, iris_run):
    out = tmp_path / "new.csv"
    result = cli("predict", iris_run, IRIS, "-o", out)
    assert result.returncode == 0 and result.stderr == f"wrote 150 predictions to {out}\n"
    line = _one_line(cli("predict", iris_run, IRIS, "-o", iris_run / "model.json", "--force"))
    assert "is inside the run directory" in line  # --force never opens the run directory


def test_eval_writes_the_confusion_matrix_to_stdout_with_dash(iris_run):
    result = cli("eval", iris_run, IRIS, "--confusion", "-")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("true\\predicted,setosa,versicolor,virginica\n")
    assert len(result.stdout.splitlines()) == 4  # the matrix alone: the tables went to stderr
    assert "confusion matrix to stdout" in result.stderr and "per class" in result.stderr
    line = _one_line(cli("eval", iris_run, IRIS, "--confusion", "-", "--json"))
    assert line == "--confusion -: stdout carries the --json object; write the matrix to a file"


def test_init_writes_a_fifo_straight_without_force(tmp_path):
    fifo = tmp_path / "config.fifo"
    os.mkfifo(fifo)
    code, err, got = _through_fifo(fifo, "init", IRIS, "--target", "species", "-o", fifo)
    assert code == 0, err
    assert yaml.safe_load(got)["data"]["target"] == "species"
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and "save it, then train it" in err
