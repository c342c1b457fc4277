"""The results files of docs/benchmarks/ as the report reads them, and the small formatting they share."""

import csv
import json
import statistics
from collections import Counter
from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks"  # reassigned by report.py --results
NUMERIC = {"n_envs", "threads", "pair", "steps", "seed", "n_timesteps", "eval_episodes", "timesteps", "units"}
STRINGS = {"experiment", "config", "algo", "env", "run", "log_dir", "commit", "date", "axis", "machine", "layer"}
STRINGS |= {"reference", "source"}  # references.csv


def read(name: str) -> list[dict]:
    path = RESULTS / f"{name}.csv"
    if not path.exists():
        return []
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    for row in rows:
        for key, value in row.items():
            if value in ("", None) or key in STRINGS:
                continue
            row[key] = int(value) if key in NUMERIC else float(value)
    return rows


def meta(name: str) -> dict:
    """The command and machine of the last run that wrote ``name``."""
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def machine(meta: dict, exclude: tuple[str, ...] = ()) -> str:
    environment = meta.get("environment", {})
    return ", ".join(f"{key} {value}" for key, value in environment.items() if key not in exclude)


def provenance(rows: list[dict]) -> str:
    """Which commit and day each run had, counted, from the rows that record it (rows written before they did not)."""
    recorded = Counter((row["commit"], row["date"]) for row in rows if row.get("commit"))
    parts = [
        f"commit {commit} on {date} ({count} run{'s' * (count > 1)})"
        for (commit, date), count in sorted(recorded.items(), key=lambda item: (item[0][1], item[0][0]))
    ]
    unrecorded = len(rows) - sum(recorded.values())
    if parts and unrecorded:
        parts.append(f"not recorded for {unrecorded} earlier run{'s' * (unrecorded > 1)}")
    return "; ".join(parts)


def mean_std(values: list[float]) -> str:
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.1f}"  # one seed has no spread over seeds
    return f"{statistics.mean(values):.1f} ± {statistics.pstdev(values):.1f}"


def by_config(rows: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for row in rows:
        grouped.setdefault(row["config"], []).append(row)
    return grouped


def config_seeds(config: str, seeds: list[int]) -> str:
    return f"{config} seed{'s' * (len(seeds) > 1)} {', '.join(map(str, seeds))}"
