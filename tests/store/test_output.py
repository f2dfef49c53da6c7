"""store.output and store.atomic.AtomicFile: what a name is, and a file that appears while
nnfit works is never replaced without --force."""

import errno
import os

import pytest

import nnfit.store.atomic as atomic
from nnfit.errors import NnfitError
from nnfit.store.atomic import AtomicFile
from nnfit.store.output import output_target, write_output, writing


def test_names_are_classified_before_any_work(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("a\n1\n")
    fifo = tmp_path / "f.fifo"
    os.mkfifo(fifo)
    assert output_target("-", "-o", csv_path=data).kind == "stdout"
    assert output_target("/dev/stdout", "-o", csv_path=data).fd == 1
    assert output_target("/proc/self/fd/2", "-o", csv_path=data).fd == 2
    assert output_target(fifo, "-o", csv_path=data).kind == "special"
    assert output_target(tmp_path / "new.csv", "-o", csv_path=data).kind == "file"
    assert output_target(data.parent / "x.csv", "-o", csv_path=data, force=True).force


def test_a_file_that_appears_while_writing_is_kept_and_refused(tmp_path):
    data, out = tmp_path / "data.csv", tmp_path / "out.csv"
    data.write_text("a\n1\n")
    target = output_target(out, "--confusion", csv_path=data)
    with pytest.raises(NnfitError) as info:
        with writing(target) as writer:
            writer.write("predictions\n")
            out.write_text("someone else's\n")  # appears after the check
    assert info.value.message == (f"{out}: already exists; pass --force to overwrite it, or "
                                  f"--confusion another file")
    assert out.read_text() == "someone else's\n"
    assert sorted(os.listdir(tmp_path)) == ["data.csv", "out.csv"]  # no temporary file left


def test_an_error_while_writing_leaves_no_file(tmp_path):
    data, out = tmp_path / "data.csv", tmp_path / "out.csv"
    data.write_text("a\n1\n")
    with pytest.raises(RuntimeError):
        with writing(output_target(out, "-o", csv_path=data)) as writer:
            writer.write("half\n")
            raise RuntimeError("the model failed")
    assert sorted(os.listdir(tmp_path)) == ["data.csv"]
    write_output(output_target(out, "-o", csv_path=data), "whole\n")
    assert out.read_text() == "whole\n"


def test_without_hard_links_an_existing_name_is_still_refused(tmp_path, monkeypatch):
    def no_links(source, path):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(atomic.os, "link", no_links)
    out = tmp_path / "out.csv"
    first = AtomicFile(out, replace=False)
    first.write(b"one\n")
    first.commit()  # falls back to a rename onto a free name
    second = AtomicFile(out, replace=False)
    second.write(b"two\n")
    with pytest.raises(FileExistsError):
        second.commit()
    second.discard()
    assert out.read_text() == "one\n" and os.listdir(tmp_path) == ["out.csv"]


def test_a_socket_is_refused(tmp_path):
    import socket

    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(NnfitError) as info:
            output_target(path, "-o", csv_path=tmp_path / "d.csv")
    assert info.value.message == f"-o {path}: is a socket; write to a file, a pipe, or - for stdout"
