"""Numbers written as text: which columns, what reads them, and the words of the remedy."""

import pandas as pd
import pytest

from nnfit.data.dataset import text_as_categories
from nnfit.data.number_text import NumberText, numbers_as_text


def _found(cells):
    """What the checks find in a text column of ``cells``, made categorical as read_dataset does."""
    frame = text_as_categories(pd.DataFrame({"c": cells}), ["c"])
    return numbers_as_text(frame, ["c"])


@pytest.mark.parametrize("cells, expected", [
    (["1,5", "2,25", "0,125", None], NumberText("c", "1,5", decimal=",")),
    (["1,343.6", "12,000", "2,000,000.5"], NumberText("c", "1,343.6", thousands=",")),
    (["1.343,6", "1.000.000", "2,5"], NumberText("c", "1.343,6", decimal=",", thousands=".")),
    (["13%", "5%", "100%"], NumberText("c", "13%", signs="%")),
    (["$1,344", "$12", "$5,000.50"], NumberText("c", "$5,000.50", thousands=",", signs="$")),
    (["-$5", "€ 3,5", "4 €"], NumberText("c", "€ 3,5", decimal=",", signs="$€")),
    (["1,344", "2,500"], NumberText("c", "1,344", decimal=",", ambiguous=True)),
])
def test_numbers_written_as_text_are_found_with_what_reads_them(cells, expected):
    assert _found(cells) == [expected]


@pytest.mark.parametrize("cells", [
    ["a", "b", "c"],  # text
    ["1,2,3", "4,5,6"],  # lists, not numbers
    ["12.5", "7", "1,343.6"],  # half are numbers as they are: the column is numeric already
    ["13%", "x", "y"],  # mostly text
    ["2021-01-05", "2021-02-05"],  # dates
])
def test_text_that_is_not_numbers_is_left_alone(cells):
    assert _found(cells) == []


def test_a_numeric_column_is_not_looked_at():
    assert numbers_as_text(pd.DataFrame({"c": [1.5, 2.5]}), ["c"]) == []


@pytest.mark.parametrize("found, remedy", [
    (NumberText("c", "1,5", decimal=","), "set data.decimal: ',' (--set data.decimal=,)"),
    (NumberText("c", "1.343,6", decimal=",", thousands="."),
     "set data.decimal: ',' and data.thousands: '.' (--set data.decimal=, --set "
     "data.thousands=.)"),
    (NumberText("c", "13%", signs="%"), "take the '%' sign out of the file (no data key does)"),
    (NumberText("c", "$1,344", thousands=",", signs="$€%"),
     "take the '$', '€' and '%' signs out of the file (no data key does); set "
     "data.thousands: ',' (--set data.thousands=,)"),
    (NumberText("c", "1,344", decimal=",", ambiguous=True),
     "set data.decimal: ',' (--set data.decimal=,) or, if ',' separates thousands there, "
     "data.thousands: ',' instead"),
])
def test_the_remedy_names_the_keys_and_the_signs(found, remedy):
    assert found.remedy() == remedy
