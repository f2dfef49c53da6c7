"""Writes penguins.csv from the copy bundled with the ``palmerpenguins`` package (local data,
no download).

    python3 -m venv /tmp/dsvenv && /tmp/dsvenv/bin/pip install palmerpenguins==0.1.6
    /tmp/dsvenv/bin/python sample_data/make_penguins.py

Palmer Archipelago penguins, 2007–2009 (Gorman, Williams & Fraser 2014; Palmer Station
LTER; data CC0): measurements of 344 Adélie, Chinstrap and Gentoo penguins. The species
(the target) is moved to the last column; the empty cells (2 penguins without
measurements, 11 without a recorded sex) stay empty.
"""

from pathlib import Path

from palmerpenguins import load_penguins

penguins = load_penguins()
frame = penguins[[c for c in penguins.columns if c != "species"] + ["species"]]
frame.to_csv(Path(__file__).parent / "penguins.csv", index=False, lineterminator="\n")
print(f"penguins.csv: {len(frame)} rows, {int(frame.isna().sum().sum())} empty cells")
