"""
The report's tables of benchmarks/learning.py's experiments: results, learning speed, runs under way, the header
saying what ran, and the references (the notebooks' and published scores) beside what was measured.
"""

import statistics

from benchmarks import checkpoints, results
from benchmarks.common import REPO_ROOT
from benchmarks.registry import EXPERIMENTS

# Where the last checkpoint of an unfinished run is committed (checkpoints/README.md): a run without one there
# was lost with the machine that held it
COMMITTED_CHECKPOINTS = REPO_ROOT / "checkpoints"


def learning_table(name: str) -> str:
    """Markdown table of one learning experiment."""
    rows = results.read(name)
    if not rows:
        status = "No run finished yet" if results.read(f"{name}_progress") else "Not run yet"
        return f"*{status}: `python benchmarks/learning.py {name}`.*"
    experiment = EXPERIMENTS[name]
    if experiment.evaluation == "threshold":
        lines = [
            f"| config | seeds | reached {experiment.threshold:g} | steps to reach it: mean ± std (per seed) |",
            "|---|---|---|---|",
        ]
        for config, group in results.by_config(rows).items():
            steps = [row["steps_to_threshold"] for row in group if row.get("steps_to_threshold") not in ("", None)]
            per_seed = ", ".join(
                str(row["steps_to_threshold"]) if row.get("steps_to_threshold") not in ("", None) else "not reached"
                for row in sorted(group, key=lambda row: row["seed"])
            )
            lines.append(f"| {config} | {len(group)} | {len(steps)}/{len(group)} | {results.mean_std(steps)} ({per_seed}) |")
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
    for config, group in results.by_config(rows).items():
        group = sorted(group, key=lambda row: row["seed"])
        scores = [row["eval_mean"] for row in group]
        train = [row["last_100_train_mean"] for row in group]
        fps = statistics.mean(row["fps"] for row in group)
        lines.append(
            f"| {config} | {len(group)} | {results.mean_std(scores)} | {statistics.median(scores):.1f} "
            f"| {', '.join(f'{score:.{digits}f}' for score in scores)} | {results.mean_std(train)} "
            f"| {statistics.median(train):.1f} | {', '.join(f'{score:.{digits}f}' for score in train)} | {fps:.0f} |"
        )
    done = {(row["config"], row["seed"]) for row in rows}
    missing, stopped = [], []
    for config in experiment.configs:
        seeds = [seed for seed in experiment.seeds if (config, seed) not in done]
        if seeds and experiment.stopped(rows, config):
            stopped.append(config)
            continue
        if len(seeds) == len(experiment.seeds):
            missing.append(config)
        elif seeds:
            missing.append(results.config_seeds(config, seeds))
    if missing:
        lines.append(f"\n*Not run yet: {', '.join(missing)} (`python benchmarks/learning.py {name}` resumes).*")
    if stopped:
        lines.append(f"\n*Stopped by the screen's rule at {experiment.stop_rule_text(rows)}: {', '.join(stopped)}.*")
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
    curves, rows = results.read(f"{name}_curves"), results.read(name)
    by_config = results.by_config(curves)
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
        cells = [config, ", ".join(map(str, sorted(means[0]))), *(results.mean_std(list(span.values())) for span in means)]
        if baseline is not None:
            shared = sorted(set(means[0]) & set(baseline))
            above = f"{sum(means[0][seed] > baseline[seed] for seed in shared)} of {len(shared)}" if shared else "–"
            cells.append("–" if config == "a2c" else above)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _progress_runs(name: str) -> dict[tuple[str, int], list[dict]]:
    """The points of an experiment's progress file per (config, seed), in step order."""
    runs: dict[tuple[str, int], list[dict]] = {}
    for point in results.read(f"{name}_progress"):
        runs.setdefault((point["config"], point["seed"]), []).append(point)
    return {run: sorted(points, key=lambda point: point["timesteps"]) for run, points in runs.items()}


def _standing(name: str, config: str, seed: int) -> str:
    """Whether an unfinished run can go on, and from where: its committed checkpoint (checkpoints/), if any."""
    steps = checkpoints.saved_steps(COMMITTED_CHECKPOINTS / name / config / f"seed_{seed}")
    return "lost with its machine (starts again from zero)" if steps is None else f"goes on from {steps:,} steps"


def progress_table(name: str) -> str:
    """Where the checkpointed runs of an experiment that have not finished yet stand, from their progress file."""
    finished = {(row["config"], row["seed"]) for row in results.read(name)}
    runs = {run: points for run, points in _progress_runs(name).items() if run not in finished}
    if not runs:
        return ""
    lines = [
        f"Runs not finished yet, as of their last checkpoint (`python benchmarks/learning.py {name}` goes on from "
        "it; [progress file](benchmarks/" + f"{name}_progress.csv)). Training games are full games, raw score, "
        "sampled actions, as in the last-100-training-episodes column of finished runs.",
        "",
        "| config | seed | steps done | last 100 training games | the same at each million steps | training hours "
        "| committed checkpoint | commits, dates, machines |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (config, seed), run in runs.items():
        last = run[-1]
        millions = ", ".join(
            f"{point['timesteps'] // 1_000_000}M: {point['last_100_train_mean']:.0f}"
            for point in run
            if point["timesteps"] % 1_000_000 == 0
        )
        provenance = "; ".join(dict.fromkeys(f"{point['commit']} on {point['date']}, {point['machine']}" for point in run))
        lines.append(
            f"| {config} | {seed} | {last['timesteps']:,} | {last['last_100_train_mean']:.1f} | {millions or '–'} "
            f"| {last['train_seconds'] / 3600:.1f} | {_standing(name, config, seed)} | {provenance} |"
        )
    return "\n".join(lines)


def diagnostics_table(name: str) -> str:
    """
    The training diagnostics of an experiment's checkpointed runs (their progress file, where it records them),
    per run and fifth of the budget: the means of the checkpoints' means over the span.
    """
    runs = {
        run: [point for point in points if point.get("grad_norm") not in ("", None)]
        for run, points in _progress_runs(name).items()
    }
    runs = {run: points for run, points in runs.items() if points}
    if not runs:
        return ""
    budget = EXPERIMENTS[name].n_timesteps
    edges = [budget * i // SPEED_WINDOWS for i in range(SPEED_WINDOWS + 1)]
    lines = [
        "Training diagnostics of these runs (A2CPlus's `train/` values in SB3's logger), averaged over each span: "
        "the gradient's global norm before clipping, the share of updates whose gradient was clipped, the share of "
        "the actor's and the critic's last hidden units at 0 for a whole batch, the policy's entropy, the critic's "
        "explained variance, and its mean value against the mean of its targets.",
        "",
        "| config | seed | steps | checkpoints | grad norm | clipped | actor units off | critic units off | entropy "
        "| explained variance | value mean / target mean |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (config, seed), points in runs.items():
        for start, end in zip(edges, edges[1:]):
            span = [point for point in points if start < point["timesteps"] <= end]
            if not span:
                continue

            def mean(key: str, spec: str, sign: int = 1, span: list[dict] = span) -> str:
                # A policy without the heads A2CPlus watches logs no inactive units
                values = [sign * point[key] for point in span if point.get(key) not in ("", None)]
                return format(statistics.mean(values), spec) if values else "–"

            lines.append(
                f"| {config} | {seed} | {_steps_label(start)}-{_steps_label(end)} | {len(span)} "
                f"| {mean('grad_norm', '.2f')} | {mean('clipped_share', '.0%')} | {mean('inactive_units_pi', '.0%')} "
                f"| {mean('inactive_units_vf', '.0%')} | {mean('entropy_loss', '.2f', -1)} "
                f"| {mean('explained_variance', '.2f')} | {mean('value_mean', '.2f')} / {mean('value_target_mean', '.2f')} |"
            )
    return "\n".join(lines)


# Measured the rows of <experiment>_heads.csv and was removed: runs log their dead units at every update now, and
# sb3_a2c_plus.common.diagnostics.unit_activity measures a saved model
HEADS_SCRIPT = "benchmarks/heads.py of commit e08216a"


def heads_table(name: str) -> str:
    """How much of each kept model's fully connected layers still fired (``HEADS_SCRIPT``), where measured."""
    rows, meta = results.read(f"{name}_heads"), results.meta(f"{name}_heads")
    if not rows:
        return ""
    commands = ", ".join(f"`{command}`" for command in meta.get("commands", [meta.get("command")]))
    commands += f" ({HEADS_SCRIPT})"
    models = list({(row["config"], row["seed"], row["n_timesteps"]): row for row in rows}.values())

    def share(value: float | str, spec: str) -> str:
        return "–" if value == "" else format(value, spec)

    lines = [
        f"Hidden units that never fire while the model plays ({commands}: {meta['games']} games of the native "
        f"backend for {meta['steps']} steps each, sampled actions; machine: {results.machine(meta, ('commit', 'date'))}; "
        f"{results.provenance(models)}). The model is a finished run's final one, or a "
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


def _curve_gaps(name: str, rows: list[dict], curves: list[dict]) -> str:
    """Which runs of an experiment have no learning curve, and why."""
    drawn = {(row["config"], row["seed"]) for row in curves}
    lacking: dict[str, list[int]] = {}
    for row in rows:
        if (row["config"], row["seed"]) not in drawn:
            lacking.setdefault(row["config"], []).append(row["seed"])
    if not lacking:
        return ""
    runs = ", ".join(results.config_seeds(config, sorted(seeds)) for config, seeds in lacking.items())
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
    rows = results.read(name)
    budget = rows[0]["n_timesteps"] if rows and experiment.evaluation != "threshold" else experiment.n_timesteps
    seeds = sorted({row["seed"] for row in rows}) or list(experiment.seeds)
    figure = f"\n\n![{name}](benchmarks/{name}.png)" if (results.RESULTS / f"{name}.png").exists() else ""
    meta = results.meta(name)
    if not rows:
        return f"{experiment.env_id}, budget {budget:,} steps, seeds {seeds}."
    commands = meta.get("commands") or [meta.get("command", f"python benchmarks/learning.py {name}")]
    provenance = results.provenance(rows)
    if provenance:
        machine = f"{results.machine(meta, exclude=('commit', 'date'))}. Runs by commit and date: {provenance}"
    else:
        # The metadata keeps the environment of the last command that wrote rows
        machine = results.machine(meta) + (" (commit and date of the last command)" if len(commands) > 1 else "")
    commands = ", ".join(f"`{command}`" for command in commands)
    curve_rows = results.read(f"{name}_curves")
    curves = f"[{name}_curves.csv](benchmarks/{name}_curves.csv)" if curve_rows else "none"
    return (
        f"{experiment.env_id}, budget {budget:,} steps, seeds {seeds}, torch threads {experiment.threads}, "
        f"`{experiment.vec_env}` vectorisation. Commands: {commands}. "
        f"Machine: {machine}. Raw results: [{name}.csv](benchmarks/{name}.csv), "
        f"curves: {curves}.{_curve_gaps(name, rows, curve_rows)} The training steps/s of these runs are not a "
        f"speed comparison (runs shared the machine, see section 1).{figure}"
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
    for reference in results.read("references"):
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
        rows = results.read(name)
        for config, group in results.by_config(rows).items():
            scores, train = [row["eval_mean"] for row in group], [row["last_100_train_mean"] for row in group]
            lines.append(f"| `{config}`, here | {_median(scores)} | {_median(train)} | section 2 |")
        finished = {(row["config"], row["seed"]) for row in rows}
        lines += [
            f"| `{config}` seed {seed}, here, not finished | – | {run[-1]['last_100_train_mean']:.1f} at "
            f"{run[-1]['timesteps']:,} steps | section 2, runs not finished: {_standing(name, config, seed)} |"
            for (config, seed), run in _progress_runs(name).items()
            if (config, seed) not in finished
        ]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) or "*No references recorded (docs/benchmarks/references.csv).*"


def learning_results(name: str) -> str:
    """An experiment's table and, where they apply, its learning speed, runs under way and hidden units."""
    table = learning_table(name)
    sections = (learning_speed_table(name), progress_table(name), diagnostics_table(name), heads_table(name))
    extra = [section for section in sections if section]
    return "\n\n".join([table, *extra])
