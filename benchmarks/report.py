"""
Assemble docs/benchmarks.md from the results the benchmark scripts wrote into docs/benchmarks/.
Every figure in the report comes from those CSV files; nothing in it is typed by hand.

    python benchmarks/report.py

The narrative is docs/benchmarks.template.md: the report's text in Markdown, with a marker such as
`<!-- learning: lunarlander -->` or `<!-- references -->` where a generated table or section goes (the template's
first comment lists the kinds). To change the prose, edit the template and rerun this script; never edit
docs/benchmarks.md. This script only computes and formats: each marker is replaced by what its generator makes
(``generators``), and a marker without a generator, or a generator without a marker, stops it with an error.
"""

import argparse
import csv
import json
import re
import statistics
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.registry import EXPERIMENTS  # noqa: E402
from benchmarks.throughput import TABLE_TRAINING_RUNS, breakdown, summarize  # noqa: E402
from benchmarks.tune import STUDIES  # noqa: E402

DOCS = Path(__file__).resolve().parent.parent / "docs"
RESULTS = DOCS / "benchmarks"  # reassigned by --results
NUMERIC = {"n_envs", "threads", "pair", "steps", "seed", "n_timesteps", "eval_episodes", "timesteps", "units"}
STRINGS = {"experiment", "config", "algo", "env", "run", "log_dir", "commit", "date", "axis", "machine", "layer"}
STRINGS |= {"reference", "source"}


def _read(name: str) -> list[dict]:
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


def _meta(name: str) -> dict:
    """The command and machine of the last run that wrote ``name``."""
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _machine(meta: dict, exclude: tuple[str, ...] = ()) -> str:
    environment = meta.get("environment", {})
    return ", ".join(f"{key} {value}" for key, value in environment.items() if key not in exclude)


def _provenance(rows: list[dict]) -> str:
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


def _mean_std(values: list[float]) -> str:
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.1f}"  # one seed has no spread over seeds
    return f"{statistics.mean(values):.1f} ± {statistics.pstdev(values):.1f}"


def _by_config(rows: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for row in rows:
        grouped.setdefault(row["config"], []).append(row)
    return grouped


def _config_seeds(config: str, seeds: list[int]) -> str:
    return f"{config} seed{'s' * (len(seeds) > 1)} {', '.join(map(str, seeds))}"


def learning_table(name: str) -> str:
    """Markdown table of one learning experiment."""
    rows = _read(name)
    if not rows:
        status = "No run finished yet" if _read(f"{name}_progress") else "Not run yet"
        return f"*{status}: `python benchmarks/learning.py {name}`.*"
    experiment = EXPERIMENTS[name]
    if experiment.evaluation == "threshold":
        lines = [
            f"| config | seeds | reached {experiment.threshold:g} | steps to reach it: mean ± std (per seed) |",
            "|---|---|---|---|",
        ]
        for config, group in _by_config(rows).items():
            steps = [row["steps_to_threshold"] for row in group if row.get("steps_to_threshold") not in ("", None)]
            per_seed = ", ".join(
                str(row["steps_to_threshold"]) if row.get("steps_to_threshold") not in ("", None) else "not reached"
                for row in sorted(group, key=lambda row: row["seed"])
            )
            lines.append(f"| {config} | {len(group)} | {len(steps)}/{len(group)} | {_mean_std(steps)} ({per_seed}) |")
        return "\n".join(lines)
    evaluation = (
        f"{experiment.eval_episodes} full games, raw score, stochastic actions"
        if experiment.evaluation == "atari"
        else f"{experiment.eval_episodes} episodes, deterministic actions"
    )
    lines = [
        f"| config | seeds | final evaluation ({evaluation}): mean ± std over seeds | median over seeds "
        "| per seed | last 100 training episodes: mean ± std over seeds | median over seeds | per seed "
        "| training steps/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    digits = 0 if max(abs(row["eval_mean"]) for row in rows) >= 100 else 1  # small scores (Breakout) keep a decimal
    for config, group in _by_config(rows).items():
        group = sorted(group, key=lambda row: row["seed"])
        scores = [row["eval_mean"] for row in group]
        train = [row["last_100_train_mean"] for row in group]
        fps = statistics.mean(row["fps"] for row in group)
        lines.append(
            f"| {config} | {len(group)} | {_mean_std(scores)} | {statistics.median(scores):.1f} "
            f"| {', '.join(f'{score:.{digits}f}' for score in scores)} | {_mean_std(train)} "
            f"| {statistics.median(train):.1f} | {', '.join(f'{score:.{digits}f}' for score in train)} | {fps:.0f} |"
        )
    done = {(row["config"], row["seed"]) for row in rows}
    missing = []
    for config in experiment.configs:
        seeds = [seed for seed in experiment.seeds if (config, seed) not in done]
        if len(seeds) == len(experiment.seeds):
            missing.append(config)
        elif seeds:
            missing.append(_config_seeds(config, seeds))
    if missing:
        lines.append(f"\n*Not run yet: {', '.join(missing)} (`python benchmarks/learning.py {name}` resumes).*")
    return "\n".join(lines)


SPEED_WINDOWS = 5  # the learning-speed table splits the budget into this many equal spans


def _steps_label(steps: int) -> str:
    return f"{steps // 1_000_000}M" if steps and steps % 1_000_000 == 0 else f"{steps // 1000}k" if steps else "0"


def learning_speed_table(name: str) -> str:
    """
    How soon each config of an Atari experiment learns, from its curves (points: the mean of the last 100
    training games, taken along the run): per seed, the mean of its points over the whole run and over
    each fifth of the budget; then mean ± std over seeds, and at how many seeds it is above SB3 A2C.
    """
    curves, rows = _read(f"{name}_curves"), _read(name)
    by_config = _by_config(curves)
    if EXPERIMENTS[name].evaluation != "atari" or len(by_config) < 2 or not rows:
        return ""
    budget = rows[0]["n_timesteps"]
    edges = [budget * i // SPEED_WINDOWS for i in range(SPEED_WINDOWS + 1)]
    spans = [(0, budget), *zip(edges, edges[1:])]

    def seed_means(points: list[dict], start: int, end: int) -> dict[int, float]:
        returns: dict[int, list[float]] = {}
        for point in points:
            if start < point["timesteps"] <= end:
                returns.setdefault(point["seed"], []).append(point["return"])
        return {seed: statistics.mean(values) for seed, values in returns.items()}

    labels = ["whole run", *(f"{_steps_label(start)}-{_steps_label(end)}" for start, end in spans[1:])]
    means_by_config = {config: [seed_means(points, *span) for span in spans] for config, points in by_config.items()}
    # Experiments without SB3's A2C (the ablations) have no column comparing with it
    baseline = means_by_config["a2c"][0] if "a2c" in means_by_config else None
    header = ["config", "seeds with a curve", *labels]
    if baseline is not None:
        header.append("whole run above `a2c` (seeds where both have a curve)")
    lines = [
        "Learning speed, from the curves: per seed, the mean of its curve points (each the mean of the last 100 "
        "training games) over the whole run and over each fifth of it; mean ± std over the seeds with a curve.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for config, means in means_by_config.items():
        cells = [config, ", ".join(map(str, sorted(means[0]))), *(_mean_std(list(span.values())) for span in means)]
        if baseline is not None:
            shared = sorted(set(means[0]) & set(baseline))
            above = f"{sum(means[0][seed] > baseline[seed] for seed in shared)} of {len(shared)}" if shared else "–"
            cells.append("–" if config == "a2c" else above)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def progress_table(name: str) -> str:
    """Where the checkpointed runs of an experiment that have not finished yet stand, from their progress file."""
    points = _read(f"{name}_progress")
    if not points:
        return ""
    runs: dict[tuple[str, int], list[dict]] = {}
    for point in points:
        runs.setdefault((point["config"], point["seed"]), []).append(point)
    lines = [
        f"Runs not finished yet, as of their last checkpoint (`python benchmarks/learning.py {name}` goes on from "
        "it; [progress file](benchmarks/" + f"{name}_progress.csv)). Training games are full games, raw score, "
        "sampled actions, as in the last-100-training-episodes column of finished runs.",
        "",
        "| config | seed | steps done | last 100 training games | the same at each million steps | training hours "
        "| commits, dates, machines |",
        "|---|---|---|---|---|---|---|",
    ]
    for (config, seed), run in runs.items():
        run.sort(key=lambda point: point["timesteps"])
        last = run[-1]
        millions = ", ".join(
            f"{point['timesteps'] // 1_000_000}M: {point['last_100_train_mean']:.0f}"
            for point in run
            if point["timesteps"] % 1_000_000 == 0
        )
        provenance = "; ".join(dict.fromkeys(f"{point['commit']} on {point['date']}, {point['machine']}" for point in run))
        lines.append(
            f"| {config} | {seed} | {last['timesteps']:,} | {last['last_100_train_mean']:.1f} | {millions or '–'} "
            f"| {last['train_seconds'] / 3600:.1f} | {provenance} |"
        )
    return "\n".join(lines)


def heads_table(name: str) -> str:
    """How much of each kept model's fully connected layers still fires (benchmarks/heads.py), where measured."""
    rows, meta = _read(f"{name}_heads"), _meta(f"{name}_heads")
    if not rows:
        return ""
    commands = ", ".join(f"`{command}`" for command in meta.get("commands", [meta.get("command")]))
    models = list({(row["config"], row["seed"], row["n_timesteps"]): row for row in rows}.values())

    def share(value: float | str, spec: str) -> str:
        return "–" if value == "" else format(value, spec)

    lines = [
        f"Hidden units that never fire while the model plays ({commands}: {meta['games']} games of the native "
        f"backend for {meta['steps']} steps each, sampled actions; machine: {_machine(meta, ('commit', 'date'))}; "
        f"{_provenance(models)}). The model is a finished run's final one, or a "
        "checkpoint of a run still going. A ReLU unit that never fires passes no gradient to its weights: that "
        "share of the layer has stopped learning. The share that fires per state is its mean over the visited "
        "states. RMSprop's step is the mean over the weights into the layer of the gradient's RMS over RMSprop's "
        "denominator, from the saved optimizer state: how far an update moves them, as a share of the learning "
        "rate. The policy's entropy is its mean over the visited states.",
        "",
        "| config | seed | steps | layer | units | never fire | fire per state | RMSprop's step / learning rate (mean) "
        f"| policy entropy (uniform: {rows[0]['uniform_entropy']:.2f}) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {row['config']} | {row['seed']} | {row['n_timesteps']:,} | `{row['layer']}` | {row['units']} "
        f"| {row['never_fire']:.1%} | {share(row.get('active_per_state', ''), '.1%')} "
        f"| {share(row['step_to_lr'], '.2g')} | {row['policy_entropy']:.2f} |"
        for row in rows
    ]
    return "\n".join(lines)


BATCH_NORM_SPANS = 4  # the BatchNorm probe's table splits the run into this many equal spans


# The probe answered its question and was removed; its rows stay, and the commit before that runs it again
BATCH_NORM_PROBE = "benchmarks/batch_norm.py of commit 4b654e4"


def batch_norm_section() -> str:
    """
    The gap between the policy that acted and the one the gradient step differentiates (``BATCH_NORM_PROBE``):
    one table per run, each over its own steps.
    """
    names = sorted(path.stem for path in RESULTS.glob("batch_norm*.csv"))
    if not names:
        return f"*Not measured here ({BATCH_NORM_PROBE}).*"
    parts = []
    for name in names:
        rows, meta = _read(name), _meta(name)
        first, last = meta.get("start_timesteps", 0), max(row["timesteps"] for row in rows)
        where = f"a {meta['budget']:,}-step run" if "budget" in meta else f"the run's first {last:,} steps"
        if first:
            where = f"{meta['n_timesteps']:,} steps from a checkpoint at {first:,} of a {meta['budget']:,}-step run (`--load`)"
        lines = [
            f"`{meta['command']}` ({BATCH_NORM_PROBE}): the former `atari` entry (`SHARED_HEADS_ATARI`) on "
            f"{meta['env']} (native backend, {meta['n_envs']} games, seed "
            f"{meta['seed']}, `rollout_batch_norm='{meta['rollout_batch_norm']}'`), {where}, probed every "
            f"{meta['every']} updates; machine: {_machine(meta)}. Raw rows: [{name}.csv](benchmarks/{name}.csv).",
            "",
            "| steps | probes | mismatch KL | step KL | mismatch / step | steps that raised the surrogate | policy entropy |",
            "|---|---|---|---|---|---|---|",
        ]
        span_length = (last - first) / BATCH_NORM_SPANS
        for span in range(BATCH_NORM_SPANS):
            start, end = first + span * span_length, first + (span + 1) * span_length
            probes = [row for row in rows if start < row["timesteps"] <= end]
            if not probes:
                continue
            mismatch = statistics.median(row["kl_rollout_to_step"] for row in probes)
            step = statistics.median(row["kl_step"] for row in probes)
            raised = sum(row["surrogate_gain"] > 0 for row in probes) / len(probes)
            entropy = statistics.mean(row["policy_entropy"] for row in probes)
            lines.append(
                f"| {int(start):,}-{int(end):,} | {len(probes)} | {mismatch:.2g} | {step:.2g} "
                f"| {mismatch / step if step else float('nan'):.3f} | {raised:.0%} | {entropy:.2f} |"
            )
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _curve_gaps(name: str, rows: list[dict], curves: list[dict]) -> str:
    """Which runs of an experiment have no learning curve, and why."""
    drawn = {(row["config"], row["seed"]) for row in curves}
    lacking: dict[str, list[int]] = {}
    for row in rows:
        if (row["config"], row["seed"]) not in drawn:
            lacking.setdefault(row["config"], []).append(row["seed"])
    if not lacking:
        return ""
    runs = ", ".join(_config_seeds(config, sorted(seeds)) for config, seeds in lacking.items())
    gone = "their training logs are gone"
    if EXPERIMENTS[name].evaluation == "atari":
        gone += (
            " (the curves drawn from them earlier were dropped: they counted emulator frames as agent steps, "
            "so they showed only the first quarter of training)"
        )
    return f" No learning curve for {runs}: {gone} or hold fewer episodes than the curve's window."


def experiment_header(name: str) -> str:
    """What an experiment ran: env, budget, seeds, commands, machine, raw files and its figure."""
    experiment = EXPERIMENTS[name]
    rows = _read(name)
    budget = rows[0]["n_timesteps"] if rows and experiment.evaluation != "threshold" else experiment.n_timesteps
    seeds = sorted({row["seed"] for row in rows}) or list(experiment.seeds)
    figure = f"\n\n![{name}](benchmarks/{name}.png)" if (RESULTS / f"{name}.png").exists() else ""
    meta = _meta(name)
    if not rows:
        return f"{experiment.env_id}, budget {budget:,} steps, seeds {seeds}."
    commands = meta.get("commands") or [meta.get("command", f"python benchmarks/learning.py {name}")]
    provenance = _provenance(rows)
    if provenance:
        machine = f"{_machine(meta, exclude=('commit', 'date'))}. Runs by commit and date: {provenance}"
    else:
        # The metadata keeps the environment of the last command that wrote rows
        machine = _machine(meta) + (" (commit and date of the last command)" if len(commands) > 1 else "")
    commands = ", ".join(f"`{command}`" for command in commands)
    curve_rows = _read(f"{name}_curves")
    curves = f"[{name}_curves.csv](benchmarks/{name}_curves.csv)" if curve_rows else "none"
    return (
        f"{experiment.env_id}, budget {budget:,} steps, seeds {seeds}, torch threads {experiment.threads}, "
        f"`{experiment.vec_env}` vectorisation. Commands: {commands}. "
        f"Machine: {machine}. Raw results: [{name}.csv](benchmarks/{name}.csv), "
        f"curves: {curves}.{_curve_gaps(name, rows, curve_rows)} The training steps/s of these runs are not a "
        f"speed comparison (runs shared the machine, see section 1).{figure}"
    )


def throughput_section(name: str) -> str:
    """One table of benchmarks/throughput.py: its command, machine, rates and where the time goes."""
    rows, meta = _read(name), _meta(name)
    if not rows:
        return f"*Not run yet: `python benchmarks/throughput.py --output docs/benchmarks/{name}`.*"
    steps = rows[0]["steps"]
    return (
        f"Command: `{meta['command']}` ({steps:,} timed steps per run after a warm-up, "
        f"alternating runs, each in a fresh process). Machine: {_machine(meta)}. "
        f"Raw results: [{name}.csv](benchmarks/{name}.csv).\n\n{summarize(rows)}"
        + (
            f"\n\nWhere the time goes (mean seconds per run of {steps:,} steps):\n\n{breakdown(rows)}"
            if any(row["run"] in TABLE_TRAINING_RUNS for row in rows)
            else ""
        )
    )


def _trials(name: str) -> list[dict] | None:
    """A study's trials; None before it ran."""
    path = RESULTS / f"{name}.csv"
    if not path.exists():
        return None
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def tuning_section(name: str) -> str:
    """One LunarLander study: what ran, how many trials completed (its best trials: ``tuning_trials``)."""
    trials, command, study = _trials(name), f"python benchmarks/tune.py {name}", STUDIES[name]
    if trials is None:
        return f"*Not run yet: `{command}`.*"
    states = {state: sum(trial["state"] == state for trial in trials) for state in ("COMPLETE", "PRUNED", "FAIL")}
    workers = max(phase["workers"] for phase in study["phases"])
    return (
        f"RL Zoo's Optuna tuning with the A2CPlus sampler, {study['n_timesteps']:,} steps per trial, {workers} workers "
        f"on one study: `{command}` "
        f"(all trials: [{name}.csv](benchmarks/{name}.csv), {len(trials)} trials: {states['COMPLETE']} complete, "
        f"{states['PRUNED']} pruned, {states['FAIL']} failed). A trial's value is one unseeded run, so the best "
        "ones are validated over seeds."
    )


def tuning_trials(name: str) -> str:
    """The best trials of one study by the study's own (single-seed) value; nothing before it ran."""
    trials = _trials(name)
    if trials is None:
        return ""
    best = sorted((trial for trial in trials if trial["value"]), key=lambda trial: -float(trial["value"]))[:5]
    lines = ["| trial | value (mean deterministic return of one evaluation) |", "|---|---|"]
    lines += [f"| {trial['number']} | {float(trial['value']):.1f} |" for trial in best]
    return "\n".join(lines)


def startup_section() -> str:
    """What the zoo hook's .pth adds to every Python start (benchmarks/startup.py)."""
    meta = _meta("startup")
    if not meta:
        return "*Not run yet: `python benchmarks/startup.py`.*"
    return (
        f"Command: `{meta['command']}` ({meta['runs']} interpreter starts). Machine: {_machine(meta)}.\n\n"
        "| import of the hook at start-up, median (ms) | max (ms) | whole `python -c pass`, median (ms) "
        "| heavy modules loaded at start-up |\n|---|---|---|---|\n"
        f"| {meta['hook_import_ms_median']:.2f} | {meta['hook_import_ms_max']:.2f} "
        f"| {meta['python_c_pass_ms_median']:.1f} | {meta['heavy_modules_loaded_at_startup']} |"
    )


# The tables of benchmarks/throughput.py, in the report's order
THROUGHPUT_TABLES = (
    "throughput",
    "native_atari",
    "native_atari_shared_heads",
    "openmp_release",
    "native_atari_malloc",
    "native_atari_gpu",
    "native_adapter",
)


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} ({len(values)} seed{'s' * (len(values) > 1)})" if values else "–"


def references_section() -> str:
    """
    Per experiment with references (references.csv: the notebooks' and published scores), those scores beside
    what each config of it measured here: medians over seeds of the final evaluation and of the last 100
    training episodes, and for runs not finished, where they stand.
    """
    references: dict[str, list[dict]] = {}
    for reference in _read("references"):
        references.setdefault(reference["experiment"], []).append(reference)
    parts = []
    for name, cited in references.items():
        experiment = EXPERIMENTS[name]
        lines = [
            f"**{experiment.env_id}, {experiment.n_timesteps:,} steps** (the final evaluation as in section 2's table)",
            "",
            "| who | final evaluation, median | last 100 training episodes, median | source |",
            "|---|---|---|---|",
        ]
        for reference in cited:
            evaluation, training = (reference[key] for key in ("evaluation", "training"))
            lines.append(
                f"| {reference['reference']} | {'–' if evaluation == '' else f'{evaluation:g}'} "
                f"| {'–' if training == '' else f'{training:g}'} | {reference['source']} |"
            )
        for config, group in _by_config(_read(name)).items():
            scores, train = [row["eval_mean"] for row in group], [row["last_100_train_mean"] for row in group]
            lines.append(f"| `{config}`, here | {_median(scores)} | {_median(train)} | section 2 |")
        finished = {(row["config"], row["seed"]) for row in _read(name)}
        latest: dict[tuple[str, int], dict] = {}
        for point in _read(f"{name}_progress"):
            if (point["config"], point["seed"]) not in finished:
                key = point["config"], point["seed"]
                latest[key] = max(latest.get(key, point), point, key=lambda point: point["timesteps"])
        lines += [
            f"| `{config}` seed {seed}, here, not finished | – | {point['last_100_train_mean']:.1f} at "
            f"{point['timesteps']:,} steps | section 2, runs under way |"
            for (config, seed), point in latest.items()
        ]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) or "*No references recorded (docs/benchmarks/references.csv).*"


def learning_results(name: str) -> str:
    """An experiment's table and, where they apply, its learning speed, runs under way and hidden units."""
    table = learning_table(name)
    extra = [section for section in (learning_speed_table(name), progress_table(name), heads_table(name)) if section]
    return "\n\n".join([table, *extra])


TEMPLATE = DOCS / "benchmarks.template.md"
# A marker: `<!-- kind -->` or `<!-- kind: name -->`, on its own line or inside a paragraph
MARKER = re.compile(r"<!-- ([a-z_]+)(?:: ([a-z0-9_]+))? -->")
# A comment of the template's own: `<!--` and `-->` each alone on a line, dropped with the blank lines after it
TEMPLATE_COMMENT = re.compile(r"^<!--\n.*?^-->\n*", re.MULTILINE | re.DOTALL)


def generators() -> dict[tuple[str, str | None], Callable[[], str]]:
    """
    What each marker of the template is replaced with, keyed by (kind, name): every table, figure and section
    this script generates.
    """
    makers: dict[tuple[str, str | None], Callable[[], str]] = {}
    for name in THROUGHPUT_TABLES:
        makers["throughput", name] = partial(throughput_section, name)
    for name in EXPERIMENTS:
        makers["experiment", name] = partial(experiment_header, name)
        makers["learning", name] = partial(learning_results, name)
    for name in STUDIES:
        makers["tuning", name] = partial(tuning_section, name)
        makers["trials", name] = partial(tuning_trials, name)
    makers["startup", None] = startup_section
    makers["batch_norm", None] = batch_norm_section
    makers["references", None] = references_section
    return makers


def _marker(kind: str, name: str | None) -> str:
    return f"<!-- {kind}: {name} -->" if name else f"<!-- {kind} -->"


def check_template(template: str, known: Iterable[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """
    The template's markers, in order. Raises ValueError for a comment that is no marker, a marker no generator
    makes or one used twice, and for a generator the template has no marker for: nothing may disappear silently.
    """
    text = TEMPLATE_COMMENT.sub("", template)
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        stray = MARKER.sub("", line)
        if "<!--" in stray or "-->" in stray:
            problems.append(f"not a marker (line {number} after the template's own comments): {line.strip()!r}")
    found = [(match[1], match[2]) for match in MARKER.finditer(text)]
    known = set(known)
    problems += [f"unknown marker {_marker(*key)}" for key in dict.fromkeys(found) if key not in known]
    problems += [f"marker {_marker(*key)} used {count} times" for key, count in Counter(found).items() if count > 1]
    problems += [f"no marker {_marker(*key)} for it in the template" for key in known if key not in found]
    if problems:
        raise ValueError("the report's template does not match its generators:\n  " + "\n  ".join(problems))
    return found


def render(template: str) -> str:
    """
    The report: the template's text with each marker replaced by what its generator makes. Paragraphs are
    separated by one blank line; one whose markers all came out empty is dropped.
    """
    makers = generators()
    found = check_template(template, makers)
    made = {key: makers[key]() for key in found}
    paragraphs = re.split(r"\n{2,}", TEMPLATE_COMMENT.sub("", template).strip())
    rendered = [MARKER.sub(lambda match: made[match[1], match[2]], paragraph) for paragraph in paragraphs]
    return "\n\n".join(paragraph for paragraph in rendered if paragraph.strip()) + "\n"


def main() -> None:
    global RESULTS
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the benchmark scripts wrote their results")
    parser.add_argument("--template", type=Path, default=TEMPLATE, help="the narrative, with markers (see above)")
    parser.add_argument("--output", type=Path, default=DOCS / "benchmarks.md")
    args = parser.parse_args()
    RESULTS = args.results
    try:
        report = render(args.template.read_text())
    except ValueError as error:
        sys.exit(f"{args.template}: {error}")
    args.output.write_text(report)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
