from nnfit.data.checks import _empty_cells, empty_cells_message
from nnfit.data.table import read_table


def _frame(tmp_path, text):
    path = tmp_path / "d.csv"
    path.write_text(text)
    return read_table(path)


def first_empty_cell(frame, columns):
    """``(line, column)`` of the first empty cell in file order, or None."""
    found = _empty_cells(frame, columns)
    return None if found is None else found[1:]


def test_the_first_empty_cell_is_first_in_file_order(tmp_path):
    # column 'a' has a hole later in the file than column 'b' does: the file's first is 'b'
    lines = ["1,2,x,0"] * 10
    lines[3] = "1,,x,"  # line 5: holes in 'b' and 'y'
    lines[7] = ",2,x,0"  # line 9
    lines[8] = "1,2,,0"  # line 10
    frame = _frame(tmp_path, "a,b,c,y\n" + "\n".join(lines) + "\n")
    assert first_empty_cell(frame, ["y", "c", "b", "a"]) == (5, "b")  # the CSV's column order
    assert first_empty_cell(frame, ["a", "c"]) == (9, "a")
    assert first_empty_cell(frame.iloc[4:], ["a", "b", "c", "y"]) == (9, "a")
    assert first_empty_cell(frame, ["c"]) == (10, "c")
    assert first_empty_cell(frame.iloc[:3], ["a", "b", "c", "y"]) is None
    assert empty_cells_message(frame, ["a", "b", "c", "y"], "d.csv") == (
        "d.csv: 3 row(s) have empty cells, the first at line 5, column 'b'; "
        "set data.missing to drop or mean (cells reading NA, N/A, null and the like count as "
        "empty unless data.keep_default_na is false)")
    assert empty_cells_message(frame, ["c"], "d.csv").startswith(
        "d.csv: 1 row(s) have empty cells, the first at line 10, column 'c'; ")
    assert empty_cells_message(frame.iloc[:3], ["a", "b"], "d.csv") is None
