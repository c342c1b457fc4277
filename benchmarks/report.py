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
import re
import statistics
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import results, tables  # noqa: E402
from benchmarks.registry import EXPERIMENTS  # noqa: E402
from benchmarks.tables import experiment_header, learning_results, references_section  # noqa: E402
from benchmarks.throughput import TABLE_TRAINING_RUNS, breakdown, summarize  # noqa: E402
from benchmarks.tune import STUDIES  # noqa: E402

DOCS = Path(__file__).resolve().parent.parent / "docs"


BATCH_NORM_SPANS = 4  # the BatchNorm probe's table splits the run into this many equal spans


# The probe answered its question and was removed; its rows stay, and the commit before that runs it again
BATCH_NORM_PROBE = "benchmarks/batch_norm.py of commit 4b654e4"


def batch_norm_section() -> str:
    """
    The gap between the policy that acted and the one the gradient step differentiates (``BATCH_NORM_PROBE``):
    one table per run, each over its own steps.
    """
    names = sorted(path.stem for path in results.RESULTS.glob("batch_norm*.csv"))
    if not names:
        return f"*Not measured here ({BATCH_NORM_PROBE}).*"
    parts = []
    for name in names:
        rows, meta = results.read(name), results.meta(name)
        first, last = meta.get("start_timesteps", 0), max(row["timesteps"] for row in rows)
        where = f"a {meta['budget']:,}-step run" if "budget" in meta else f"the run's first {last:,} steps"
        if first:
            where = f"{meta['n_timesteps']:,} steps from a checkpoint at {first:,} of a {meta['budget']:,}-step run (`--load`)"
        lines = [
            f"`{meta['command']}` ({BATCH_NORM_PROBE}): the former `atari` entry (`SHARED_HEADS_ATARI`) on "
            f"{meta['env']} (native backend, {meta['n_envs']} games, seed "
            f"{meta['seed']}, `rollout_batch_norm='{meta['rollout_batch_norm']}'`), {where}, probed every "
            f"{meta['every']} updates; machine: {results.machine(meta)}. Raw rows: [{name}.csv](benchmarks/{name}.csv).",
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


def throughput_section(name: str) -> str:
    """One table of benchmarks/throughput.py: its command, machine, rates and where the time goes."""
    rows, meta = results.read(name), results.meta(name)
    if not rows:
        return f"*Not run yet: `python benchmarks/throughput.py --output docs/benchmarks/{name}`.*"
    steps = rows[0]["steps"]
    return (
        f"Command: `{meta['command']}` ({steps:,} timed steps per run after a warm-up, "
        f"alternating runs, each in a fresh process). Machine: {results.machine(meta)}. "
        f"Raw results: [{name}.csv](benchmarks/{name}.csv).\n\n{summarize(rows)}"
        + (
            f"\n\nWhere the time goes (mean seconds per run of {steps:,} steps):\n\n{breakdown(rows)}"
            if any(row["run"] in TABLE_TRAINING_RUNS for row in rows)
            else ""
        )
    )


def _trials(name: str) -> list[dict] | None:
    """A study's trials; None before it ran."""
    path = results.RESULTS / f"{name}.csv"
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
    """
    The best trials of one study by the study's own (single-seed) value, with the actions its evaluations took
    (the zoo's ``deterministic_eval``, pinned in the study's hyperparams) and each trial's state: a pruned
    trial's value is its last evaluation before it stopped. Nothing before it ran.
    """
    trials = _trials(name)
    if trials is None:
        return ""
    pinned = dict(setting.split(":", 1) for setting in STUDIES[name].get("hyperparams", []))
    actions = "sampled" if pinned.get("deterministic_eval", "True").strip() == "False" else "deterministic"
    best = sorted((trial for trial in trials if trial["value"]), key=lambda trial: -float(trial["value"]))[:5]
    lines = [f"| trial | value (mean return of one evaluation, {actions} actions) | state |", "|---|---|---|"]
    lines += [f"| {trial['number']} | {float(trial['value']):.1f} | {trial['state'].lower()} |" for trial in best]
    return "\n".join(lines)


def startup_section() -> str:
    """What the zoo hook's .pth adds to every Python start (benchmarks/startup.py)."""
    meta = results.meta("startup")
    if not meta:
        return "*Not run yet: `python benchmarks/startup.py`.*"
    return (
        f"Command: `{meta['command']}` ({meta['runs']} interpreter starts). Machine: {results.machine(meta)}.\n\n"
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
    "native_atari_recipe",
    "openmp_release",
    "native_atari_malloc",
    "native_atari_gpu",
    "native_adapter",
)


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
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=results.RESULTS, help="where the scripts wrote their results")
    parser.add_argument("--template", type=Path, default=TEMPLATE, help="the narrative, with markers (see above)")
    parser.add_argument("--output", type=Path, default=DOCS / "benchmarks.md")
    parser.add_argument(
        "--checkpoints",
        type=Path,
        default=tables.COMMITTED_CHECKPOINTS,
        help="where unfinished runs' last checkpoints are committed (a run without one is reported as lost)",
    )
    args = parser.parse_args()
    results.RESULTS, tables.COMMITTED_CHECKPOINTS = args.results, args.checkpoints
    try:
        report = render(args.template.read_text())
    except ValueError as error:
        sys.exit(f"{args.template}: {error}")
    args.output.write_text(report)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
