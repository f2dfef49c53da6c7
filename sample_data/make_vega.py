"""Writes auto_mpg.csv and seattle_weather.csv from the copies bundled with the
``vega_datasets`` package (local data, no download).

    python3 -m venv /tmp/dsvenv && /tmp/dsvenv/bin/pip install vega_datasets==0.9.0
    /tmp/dsvenv/bin/python sample_data/make_vega.py

The Auto MPG data (StatLib, 1983 ASA Data Exposition; UCI "Auto MPG"): cars of model
years 1970–1982. The 8 cars without a fuel consumption (the target) are dropped; the 6
without a horsepower keep an empty cell. The car's name (an identifier) is left out, and
the model year is written as a number.

Seattle's daily weather, 2012–2015 (NOAA, public domain): precipitation, temperature
extremes and wind of each day, and its weather type. The date is left out (an identifier:
one value per row).
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
HERE = Path(__file__).parent
frame.to_csv(HERE / "auto_mpg.csv", index=False, lineterminator="\n")
print(f"auto_mpg.csv: {len(frame)} rows, {int(frame.isna().sum().sum())} empty cells")

weather = data.seattle_weather().drop(columns="date").round(6)
weather.to_csv(HERE / "seattle_weather.csv", index=False, lineterminator="\n")
print(f"seattle_weather.csv: {len(weather)} rows, {int(weather.isna().sum().sum())} empty cells")
