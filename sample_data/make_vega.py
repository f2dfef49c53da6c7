"""Writes auto_mpg.csv from the copy bundled with the ``vega_datasets`` package (local data,
no download).

    python3 -m venv /tmp/dsvenv && /tmp/dsvenv/bin/pip install vega_datasets==0.9.0
    /tmp/dsvenv/bin/python sample_data/make_vega.py

The Auto MPG data (StatLib, 1983 ASA Data Exposition; UCI "Auto MPG"): cars of model
years 1970–1982. The 8 cars without a fuel consumption (the target) are dropped; the 6
without a horsepower keep an empty cell. The car's name (an identifier) is left out, and
the model year is written as a number.
"""

from pathlib import Path

from vega_datasets import data

cars = data.cars()
cars = cars[cars["Miles_per_Gallon"].notna()]
frame = cars.assign(model_year=cars["Year"].dt.year).rename(columns={
    "Miles_per_Gallon": "mpg", "Cylinders": "cylinders", "Displacement": "displacement",
    "Horsepower": "horsepower", "Weight_in_lbs": "weight_lbs", "Acceleration": "acceleration",
    "Origin": "origin"})
frame = frame[["cylinders", "displacement", "horsepower", "weight_lbs", "acceleration",
               "model_year", "origin", "mpg"]]
frame.to_csv(Path(__file__).parent / "auto_mpg.csv", index=False, lineterminator="\n")
print(f"auto_mpg.csv: {len(frame)} rows, {int(frame.isna().sum().sum())} empty cells")
