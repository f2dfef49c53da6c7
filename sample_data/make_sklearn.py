"""Writes digits.csv from the copy bundled with scikit-learn (``sklearn.datasets.load_digits``).

    pip install scikit-learn==1.9.1   # any version bundling the same data writes the same file
    python sample_data/make_sklearn.py

8×8 images of handwritten digits, each pixel a count 0–16 of the dark cells in a 4×4
block of the 32×32 scan (UCI "Optical Recognition of Handwritten Digits", test set).
Columns ``pixel_<row>_<col>`` (scikit-learn's feature names) and the target ``digit``.
"""

from pathlib import Path

from sklearn.datasets import load_digits

bunch = load_digits(as_frame=True)
frame = bunch.data.astype(int)
frame["digit"] = bunch.target
frame.to_csv(Path(__file__).parent / "digits.csv", index=False, lineterminator="\n")
