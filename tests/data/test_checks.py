from nnfit.data.checks import _empty_cells, empty_cells_message, index_like_columns, index_warning
from nnfit.data.table import read_table


def _frame(tmp_path, text):
    path = tmp_path / "d.csv"
    path.write_text(text)
    return read_table(path)


def test_columns_equal_to_the_row_number_are_found(tmp_path):
    rows = "".join(f"{i},{i + 1},{i}.0,{i if i != 4 else 9},{i % 2 == 0},{i},{i * 3}\n"
                   for i in range(8))
    frame = _frame(tmp_path, "Unnamed: 0,id,f,off,flag,text,y\n" + rows)
    frame["text"] = frame["text"].astype(str)
    columns = ["Unnamed: 0", "id", "f", "off", "flag", "text"]
    assert index_like_columns(frame, columns) == [("Unnamed: 0", 0), ("id", 1), ("f", 0)]
    assert index_like_columns(frame, ["off", "flag", "text"]) == []
    later = frame.iloc[2:]  # rows dropped for empty cells: the index still holds the file row
    assert index_like_columns(later, columns) == [("Unnamed: 0", 0), ("id", 1), ("f", 0)]
    assert index_like_columns(frame.iloc[:4], columns) == []  # too few rows to tell


def test_an_index_column_with_a_hole_or_a_shuffle_is_not_flagged(tmp_path):
    frame = _frame(tmp_path, "a,b,y\n" + "".join(f"{'' if i == 3 else i},{(i * 3) % 8},1\n"
                                                  for i in range(8)))
    assert index_like_columns(frame, ["a", "b"]) == []


def test_index_warning_text():
    assert index_warning("Unnamed: 0", 0).warning
    assert str(index_warning("Unnamed: 0", 0)) == (
        "warning: column 'Unnamed: 0' equals the row number (0..n-1); it is likely an exported index: "
        "leave it out with data.exclude")
    assert str(index_warning("id", 1)) == (
        "warning: column 'id' equals the row number (1..n); it is likely an exported index: "
        "leave it out with data.exclude")


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
