"""Every usage error is one line (the command, Click's message, where help is) and exit 2."""

import subprocess

import pytest
from conftest import NNFIT, ROOT, cli

IRIS = ROOT / "sample_data" / "iris.csv"


@pytest.mark.parametrize("args,line", [
    (("sweep", "c.yaml", "d.csv", "--lr", "abc"),
     "nnfit sweep: Invalid value for '--lr': Input should be a valid number, unable to parse "
     "string as a number (nnfit sweep -h for help)"),
    (("train", "c.yaml", "d.csv", "--cv", "abc"),
     "nnfit train: Invalid value for '--cv': Input should be a valid integer, unable to parse "
     "string as an integer (nnfit train -h for help)"),
    (("curve", "c.yaml", "d.csv", "--jobs", "abc"),
     "nnfit curve: Invalid value for '--jobs' / '-j': Input should be a valid integer, unable "
     "to parse string as an integer (nnfit curve -h for help)"),
    (("train",), "nnfit train: Missing argument 'CONFIG'. (nnfit train -h for help)"),
    (("trian",), "nnfit: No such command 'trian'. Did you mean 'train'? (nnfit -h for help)"),
], ids=["--lr abc", "--cv abc", "--jobs abc", "bare train", "a typo"])
def test_a_usage_error_is_one_line_with_exit_2(args, line):
    done = cli(*args)
    assert (done.returncode, done.stderr) == (2, line + "\n")


def test_the_installed_command_says_it_in_one_line_too():
    done = subprocess.run([str(NNFIT), "train", "--lr", "abc", "c.yaml"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        "nnfit train: Invalid value for '--lr': Input should be a valid number, unable to parse "
        "string as a number (nnfit train -h for help)"]


@pytest.mark.parametrize("args,line", [
    (("train", "{c}", "{d}", "--threads", "99999"),
     "--set training.threads=99999: training.threads: at most 1024 BLAS threads (got 99999); "
     "more threads than cores only wait on each other"),
    (("sweep", "{c}", "{d}", "--lr-range", "1e-4:1:100000"),
     "--lr-range 1e-4:1:100000: at most 100 rates (got 100000); a few per decade tell the rates "
     "apart"),
    (("sweep", "{c}", "{d}", "--set", "training.batch_size=" + ",".join(map(str, range(1, 12))),
      "--set", "training.seed=" + ",".join(map(str, range(100)))),
     "a grid of 1,100 points (11 × 100); at most 1,000: sweep fewer values at a time"),
], ids=["threads", "lr-range", "grid"])
def test_unbounded_values_are_refused_in_one_line(tmp_path, small_config, args, line):
    out = tmp_path / "out"
    done = cli(*(a.format(c=small_config, d=IRIS) for a in args), "--out", out)
    assert (done.returncode, done.stderr.strip().splitlines()[-1]) == (2, line)
    assert not out.exists()
