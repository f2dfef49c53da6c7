import json

import pytest

from nnfit.config.load import load_config
from nnfit.config.schema import DataConfig
from nnfit.data.table import (
    READING_DEFAULTS,
    exclude_columns,
    read_table,
    reading_options,
    sniff_delimiter,
)
from nnfit.errors import NnfitError


def _csv(tmp_path, content, name="d.csv"):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _error(path, options=None):
    with pytest.raises(NnfitError) as info:
        read_table(path, options)
    assert info.value.exit_code == 2 and "\n" not in info.value.message
    return info.value.message.replace(str(path), path.name)


def _config_errors(tmp_path, data_yaml):
    path = tmp_path / "config.yaml"
    path.write_text(f"data: {data_yaml}\n")
    with pytest.raises(NnfitError) as info:
        load_config(path)
    return [line.replace(str(path), "config.yaml") for line in info.value.message.splitlines()]


# -- the data: keys ---------------------------------------------------------------------
def test_new_data_keys_default_to_todays_reading():
    data = DataConfig(target="y")
    assert (data.exclude, data.delimiter, data.na_values, data.keep_default_na, data.encoding) == (
        [], None, None, True, "utf-8")
    assert reading_options(data) == READING_DEFAULTS


@pytest.mark.parametrize("data_yaml,expected", [
    ("{target: y, delimiter: ';;'}",
     "config.yaml: data.delimiter: must be one character, not a quote or line break (got ';;')"),
    ("{target: y, delimiter: ''}",
     "config.yaml: data.delimiter: must be one character, not a quote or line break (got '')"),
    ("{target: y, exclude: [id, a, id]}", "config.yaml: data.exclude: 'id' is listed twice"),
    ("{target: y, exclude: [id, y]}",
     "config.yaml: data.exclude: 'y' is also in data.target; a column cannot be both"),
    ("{target: y, features: [a, b], exclude: [b]}",
     "config.yaml: data.exclude: 'b' is also in data.features; a column cannot be both"),
    ("{target: y, encoding: utf-9}",
     "config.yaml: data.encoding: unknown encoding 'utf-9'; try utf-8, latin-1 or cp1252"),
    ("{target: y, encoding: hex}",
     "config.yaml: data.encoding: unknown encoding 'hex'; try utf-8, latin-1 or cp1252"),
    ("{target: y, keep_default_na: maybe}",
     "config.yaml: data.keep_default_na: must be true or false (got 'maybe')"),
    ("{target: y, delimeter: ';'}",
     "config.yaml: data: unknown key 'delimeter' (did you mean 'delimiter'?)"),
])
def test_data_key_errors_name_the_key(tmp_path, data_yaml, expected):
    assert _config_errors(tmp_path, data_yaml) == [expected]


def test_reading_options_are_json_and_read_table_takes_them(tmp_path):
    data = DataConfig(target="y", delimiter=";", na_values=["?"], keep_default_na=False,
                      encoding="latin-1")
    options = reading_options(data)
    assert json.loads(json.dumps(options)) == options == {
        "delimiter": ";", "na_values": ["?"], "keep_default_na": False, "encoding": "latin-1",
        "decimal": ".", "thousands": None}
    path = _csv(tmp_path, "a;y\n?;NA\n2;caf\xe9\n".encode("latin-1"))
    for given in (data, options):
        frame = read_table(path, given)
        assert frame["a"].isna().tolist() == [True, False]
        assert frame["y"].tolist() == ["NA", "caf\xe9"]
    assert read_table(path, {"delimiter": ";", "encoding": "latin-1"})["y"].isna().tolist() == [
        True, False]  # absent keys take the defaults


# -- delimiters -----------------------------------------------------------------------
@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_sniffed(tmp_path, delimiter):
    rows = "".join(f"{i}{delimiter}{i}.5{delimiter}x{delimiter}{i % 2}\n" for i in range(30))
    path = _csv(tmp_path, f"a{delimiter}b{delimiter}c{delimiter}y\n" + rows)
    frame = read_table(path)
    assert frame.columns.tolist() == ["a", "b", "c", "y"] and len(frame) == 30
    assert frame.attrs["delimiter"] == delimiter


def test_sniffing_falls_back_to_comma_and_reads_only_the_head(tmp_path):
    assert sniff_delimiter(_csv(tmp_path, "y\n1\n2\n")) == ","
    head = b"aa;bbbb\n" + "1;\xe9\n".encode() * 20_000  # 5-byte lines
    assert head[65535:65537] == "\xe9".encode()  # the 64 KiB sample cuts this character in two
    assert sniff_delimiter(_csv(tmp_path, head + b"2;\xff\n")) == ";"  # the bad byte is not read


def test_one_column_with_another_delimiter_in_its_header_gets_a_hint(tmp_path):
    ragged = _csv(tmp_path, "a;b;y\n1;2;3\n4;5\n")  # inconsistent rows: sniffing gives up
    assert _error(ragged) == ("d.csv: parsed as a single column 'a;b;y'; is the delimiter ';'? "
                              "set data.delimiter")
    explicit = _csv(tmp_path, "a|b|y\n1|2|3\n", "e.csv")
    assert _error(explicit, {"delimiter": ","}) == (
        "e.csv: parsed as a single column 'a|b|y'; is the delimiter '|'? set data.delimiter")
    lone_target = _csv(tmp_path, "y\n1\n2\n", "y.csv")
    assert read_table(lone_target).columns.tolist() == ["y"]
    assert read_table(explicit, {"delimiter": "|"}).columns.tolist() == ["a", "b", "y"]


# -- missing values -------------------------------------------------------------------
def test_na_text_is_missing_by_default_and_text_with_keep_default_na_false(tmp_path):
    path = _csv(tmp_path, "region,n,y\nNA,1,a\nEU,,b\nnull,3,?\n")
    default = read_table(path)
    assert default["region"].isna().tolist() == [True, False, True]
    assert default["n"].isna().tolist() == [False, True, False]
    kept = read_table(path, {"keep_default_na": False})
    assert kept["region"].tolist() == ["NA", "EU", "null"]
    assert kept["n"].isna().tolist() == [False, True, False]  # an empty cell is still missing
    extra = read_table(path, {"keep_default_na": False, "na_values": ["?"]})
    assert extra["y"].isna().tolist() == [False, False, True]
    assert extra["region"].notna().all() and extra["n"].isna().sum() == 1


def test_a_number_in_na_values_marks_that_number_missing(tmp_path):
    data = DataConfig(target="y", na_values=[-999, "?"])
    assert data.na_values == ["-999", "?"]
    frame = read_table(_csv(tmp_path, "a,y\n1.5,2\n-999,3\n-999.0,?\n"), data)
    assert frame["a"].isna().tolist() == [False, True, True]
    assert frame["y"].isna().tolist() == [False, False, True]


# -- encodings ------------------------------------------------------------------------
def test_undecodable_bytes_name_the_byte_its_position_and_line(tmp_path):
    path = _csv(tmp_path, b"a,y\n1,x\n2,caf\xe9\n")
    assert _error(path) == ("d.csv: cannot decode it as utf-8 (byte 0xe9 at position 13, line 3); "
                            "set data.encoding")
    assert _error(path, {"encoding": "utf-9"}) == (
        "d.csv: unknown encoding 'utf-9'; set data.encoding")  # stored options are not validated
    assert read_table(path, {"encoding": "latin-1"})["y"].tolist() == ["x", "caf\xe9"]


def test_a_bad_byte_past_the_first_megabyte_has_its_true_position(tmp_path):
    head = b"a,y\n" + b"1,x\n" * 300_000  # 1.2 MB: pandas and our scan read it in chunks
    path = _csv(tmp_path, head + b"2,\xff\n")
    assert _error(path) == (f"d.csv: cannot decode it as utf-8 (byte 0xff at position "
                            f"{len(head) + 2}, line 300002); set data.encoding")


def test_a_utf8_bom_is_not_part_of_the_first_column(tmp_path):
    path = _csv(tmp_path, "\ufeffa;y\n1;2\n3;4\n".encode("utf-8"))
    assert read_table(path).columns.tolist() == ["a", "y"]


# -- errors that were there before ----------------------------------------------------
def test_earlier_errors_still_read_the_same(tmp_path):
    assert _error(tmp_path) == f"{tmp_path.name}: is a directory, not a CSV file"
    assert _error(tmp_path / "d.csv") == "d.csv: no such data file"
    assert _error(_csv(tmp_path, "")) == "d.csv: the CSV is empty"
    assert _error(_csv(tmp_path, "a,y\n")) == "d.csv: the CSV has a header but no rows"
    assert _error(_csv(tmp_path, "a,y\n1,2\n3,4,5\n")) == (
        "d.csv: line 3 has 3 fields but the header has 2; a stray delimiter, or a header that "
        "lacks a name")
    assert _error(_csv(tmp_path, "a, a,y\n1,2,3\n")) == "d.csv: duplicate column names: a"


# -- data.exclude ---------------------------------------------------------------------
def test_exclude_drops_columns_and_names_a_typo(tmp_path):
    frame = read_table(_csv(tmp_path, "Unnamed: 0,a,y\n0,5,1\n1,6,0\n"))
    assert exclude_columns(frame, ["Unnamed: 0"], "d.csv").columns.tolist() == ["a", "y"]
    assert exclude_columns(frame, [], "d.csv") is frame
    with pytest.raises(NnfitError) as info:
        exclude_columns(frame, ["Unamed: 0"], "d.csv")
    assert info.value.message == ("d.csv: excluded column not found: Unamed: 0 (did you mean "
                                  "'Unnamed: 0'?); the CSV has: Unnamed: 0, a, y")


def test_a_row_wider_than_the_header_is_an_error_naming_the_line(tmp_path):
    from nnfit.data.table import read_table
    from nnfit.errors import NnfitError

    path = tmp_path / "d.csv"
    path.write_text('x,y\n:,0,0\n1,"a,b"\n0,1\n')  # the first data row; quotes hold commas
    with pytest.raises(NnfitError) as info:
        read_table(path)
    assert info.value.message == (f"{path}: line 2 has 3 fields but the header has 2; a stray "
                                  f"delimiter, or a header that lacks a name")


def test_a_later_row_wider_than_the_header_names_its_line_too(tmp_path):
    from nnfit.data.table import read_table
    from nnfit.errors import NnfitError

    path = tmp_path / "d.csv"
    path.write_text("x,y\n1,2\n3,4,5\n6,7\n")
    with pytest.raises(NnfitError) as info:
        read_table(path)
    assert info.value.message == (f"{path}: line 3 has 3 fields but the header has 2; a stray "
                                  f"delimiter, or a header that lacks a name")


# -- chunked reading (nnfit predict streams big files) -----------------------------------
def _chunk_error(path, chunk_rows):
    from nnfit.data.table import read_table_chunks

    with pytest.raises(NnfitError) as info:
        list(read_table_chunks(path, None, chunk_rows))
    return info.value.message.replace(str(path), path.name)


def test_chunks_continue_the_row_index_and_raise_what_a_whole_read_raises(tmp_path):
    from nnfit.data.table import read_table_chunks

    path = _csv(tmp_path, "a;y\n" + "".join(f"{i};{i % 3}\n" for i in range(10)))
    chunks = list(read_table_chunks(path, None, 4))
    assert [c.index.tolist() for c in chunks] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert all(c.attrs["delimiter"] == ";" and c.columns.tolist() == ["a", "y"] for c in chunks)
    whole = read_table(path)
    assert [c["a"].tolist() for c in read_table_chunks(path)] == [whole["a"].tolist()]
    cases = [
        "",
        "a,y\n",
        "a, a,y\n1,2,3\n",
        "a,y\n1,2\n3,4\n5,6\n7,8,9\n",  # wider, in the second chunk
        'a,y\n"x\ny",2\n3,4\n5,6,7\n',  # after a quoted line break: the file's line
        b"a,y\n1,x\n2,x\n3,x\n2,caf\xe9\n",
    ]
    for i, content in enumerate(cases):
        path = _csv(tmp_path, content, f"c{i}.csv")
        assert _chunk_error(path, 2) == _error(path), content


# -- decimal and thousands separators ----------------------------------------------------
def test_decimal_and_thousands_separators_are_read_as_numbers(tmp_path):
    comma = _csv(tmp_path, "a;y\n1,5;2\n-0,25;3\n", "comma.csv")
    assert read_table(comma, {"decimal": ","})["a"].tolist() == [1.5, -0.25]
    groups = _csv(tmp_path, 'a,y\n"1,343.6",2\n12,3\n', "groups.csv")
    assert read_table(groups, {"thousands": ","})["a"].tolist() == [1343.6, 12.0]
    european = _csv(tmp_path, "a;y\n1.343,6;2\n12;3\n", "eu.csv")
    frame = read_table(european, DataConfig(target="y", decimal=",", thousands="."))
    assert frame["a"].tolist() == [1343.6, 12.0]
    assert read_table(comma)["a"].tolist() == ["1,5", "-0,25"]  # by default: text


@pytest.mark.parametrize("data_yaml,expected", [
    ("{target: y, decimal: ',,'}",
     "config.yaml: data.decimal: must be one character, not a digit, quote or line break "
     "(got ',,')"),
    ("{target: y, thousands: '1'}",
     "config.yaml: data.thousands: must be one character, not a digit, quote or line break "
     "(got '1')"),
    ("{target: y, thousands: '.'}",
     "config.yaml: data: decimal and thousands are both '.'; set one of them apart"),
])
def test_separator_keys_are_checked(tmp_path, data_yaml, expected):
    assert _config_errors(tmp_path, data_yaml) == [expected]


# -- line numbers are the file's own lines -------------------------------------------------
def test_errors_name_the_files_line_after_quoted_line_breaks_and_blank_lines(tmp_path):
    from nnfit.data.checks import empty_cells_message
    from nnfit.data.preprocess import numeric_column
    from nnfit.data.table import file_line

    rows = ['"one\nnote",1,p', '"two\n\nnotes",2,q', "", "plain,,p", "plain,x,q"]
    path = _csv(tmp_path, "note,a,y\n" + "\n".join(rows) + "\n")
    frame = read_table(path)
    assert [file_line(frame, row) for row in frame.index] == [2, 4, 8, 9]
    assert empty_cells_message(frame, ["a"], "d.csv").startswith(
        "d.csv: 1 row(s) have empty cells, the first at line 8, column 'a'")
    with pytest.raises(NnfitError) as info:
        numeric_column(frame["a"].iloc[[0, 1, 3]], "d.csv")
    assert info.value.message == "d.csv: column 'a', line 9: 'x' is not a number"
    import pandas as pd
    assert file_line(pd.DataFrame({"a": [1, 2]}), 1) == 3  # not read from a file: row + 2


def test_a_wider_row_after_a_quoted_line_break_names_its_line(tmp_path):
    path = _csv(tmp_path, 'a,y\n"x\ny",2\n\n3,4\n5,6,7\n')
    assert _error(path) == ("d.csv: line 6 has 3 fields but the header has 2; a stray "
                            "delimiter, or a header that lacks a name")


# -- Excel's quirks --------------------------------------------------------------------------
@pytest.mark.parametrize("first", ["sep=;\n", "\ufeffsep=;\r\n"])
def test_a_sep_line_names_the_delimiter_and_is_skipped(tmp_path, first):
    from nnfit.data.table import file_line

    path = _csv(tmp_path, f"{first}a;b;y\n1,5;2;p\n3;;q\n")
    frame = read_table(path, {"decimal": ","})
    assert frame.columns.tolist() == ["a", "b", "y"] and frame.attrs["delimiter"] == ";"
    assert frame["a"].tolist() == [1.5, 3.0]
    assert [file_line(frame, row) for row in frame.index] == [3, 4]
    from nnfit.data.checks import empty_cells_message
    assert empty_cells_message(frame, ["b"], "d.csv").startswith(
        "d.csv: 1 row(s) have empty cells, the first at line 4, column 'b'")


def test_header_names_left_empty_are_named_by_position(tmp_path):
    assert _error(_csv(tmp_path, "a,b,,\n1,2,3,4\n")) == (
        "d.csv: columns 3 and 4 have no name in the header (a trailing delimiter?); name them, "
        "or remove the delimiters that make them")
    assert _error(_csv(tmp_path, ",a,,b,\n1,2,3,4,5\n", "e.csv")) == (
        "e.csv: columns 1, 3 and 5 have no name in the header (a trailing delimiter?); name "
        "them, or remove the delimiters that make them")
    assert _error(_csv(tmp_path, "a,b,a\n1,2,3\n", "f.csv")) == "f.csv: duplicate column names: a"


# -- long names --------------------------------------------------------------------------
def test_an_unknown_column_lists_the_names_shortened(tmp_path):
    from nnfit.data.table import require_columns

    long = ["a" * 5000, "b" * 5000, *(f"c{i}" for i in range(30))]
    path = _csv(tmp_path, ",".join(long) + ",y\n" + ",".join(["1"] * 33) + "\n")
    with pytest.raises(NnfitError) as info:
        require_columns(read_table(path), ["z" * 5000], "d.csv", "target")
    assert info.value.message == (
        f"d.csv: target column not found: {'z' * 39}…; the CSV has: {'a' * 39}…, {'b' * 39}…, "
        f"{', '.join(f'c{i}' for i in range(18))}, … (13 more)")


def test_cells_longer_than_the_csv_modules_limit_are_read(tmp_path):
    wide = _csv(tmp_path, f'a,y\n"{"x" * 200_000}",1\n2,3,4\n', "wide.csv")
    assert _error(wide) == ("wide.csv: line 3 has 3 fields but the header has 2; a stray "
                            "delimiter, or a header that lacks a name")
    named = _csv(tmp_path, f"a,{'b' * 200_000},a\n1,2,3\n", "named.csv")
    assert _error(named) == "named.csv: duplicate column names: a"
