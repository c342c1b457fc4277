"""
Assemble docs/benchmarks.md from the results the benchmark scripts wrote into docs/benchmarks/.
Every figure in the report comes from those CSV files; nothing in it is typed by hand.

    python benchmarks/report.py
"""

import argparse
import csv
import json
import statistics
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.learning import EXPERIMENTS  # noqa: E402
from benchmarks.throughput import TABLE_TRAINING_RUNS, breakdown, pair_ratios, summarize  # noqa: E402

DOCS = Path(__file__).resolve().parent.parent / "docs"
RESULTS = DOCS / "benchmarks"  # reassigned by --results
NUMERIC = {"n_envs", "threads", "pair", "steps", "seed", "n_timesteps", "eval_episodes", "timesteps", "units"}
STRINGS = {"experiment", "config", "algo", "env", "run", "log_dir", "commit", "date", "axis", "machine", "layer"}


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


def _within_noise(plus: dict, base: dict) -> str:
    """A warning for a target's verdict when A2CPlus and A2C differ by less than their spread over seeds."""
    if abs(plus["mean"] - base["mean"]) < max(plus["std"], base["std"]):
        return "; the gap is smaller than one standard deviation over seeds"
    return ""


def _paired_wins(plus: dict, base: dict) -> str:
    """At how many of the seeds both ran A2CPlus scored higher: the gap seed by seed, not only on average."""
    seeds = plus["per_seed"].keys() & base["per_seed"].keys()
    wins = sum(plus["per_seed"][seed] > base["per_seed"][seed] for seed in seeds)
    return f"; higher at {wins} of the {len(seeds)} seeds both ran" if len(seeds) > 1 else ""


def _config_seeds(config: str, seeds: list[int]) -> str:
    return f"{config} seed{'s' * (len(seeds) > 1)} {', '.join(map(str, seeds))}"


def learning_table(name: str) -> tuple[str, dict[str, dict[str, float]]]:
    """Markdown table of one learning experiment and, per config, its mean and median scores."""
    rows = _read(name)
    if not rows:
        status = "No run finished yet" if _read(f"{name}_progress") else "Not run yet"
        return f"*{status}: `python benchmarks/learning.py {name}`.*", {}
    experiment = EXPERIMENTS[name]
    summary: dict[str, dict[str, float]] = {}
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
            summary[config] = {
                "mean": statistics.mean(steps) if steps else float("inf"),
                "std": statistics.pstdev(steps) if steps else 0.0,
                "reached": len(steps),
            }
        return "\n".join(lines), summary
    evaluation = (
        f"{experiment.eval_episodes} full games, raw score, stochastic actions"
        if experiment.evaluation == "atari"
        else f"{experiment.eval_episodes} episodes, deterministic actions"
    )
    lines = [
        f"| config | seeds | final evaluation ({evaluation}): mean ± std over seeds | median over seeds "
        "| per seed | last 100 training episodes: mean ± std over seeds | training steps/s |",
        "|---|---|---|---|---|---|---|",
    ]
    digits = 0 if max(abs(row["eval_mean"]) for row in rows) >= 100 else 1  # small scores (Breakout) keep a decimal
    for config, group in _by_config(rows).items():
        group = sorted(group, key=lambda row: row["seed"])
        scores = [row["eval_mean"] for row in group]
        train = [row["last_100_train_mean"] for row in group]
        fps = statistics.mean(row["fps"] for row in group)
        lines.append(
            f"| {config} | {len(group)} | {_mean_std(scores)} | {statistics.median(scores):.1f} "
            f"| {', '.join(f'{score:.{digits}f}' for score in scores)} | {_mean_std(train)} | {fps:.0f} |"
        )
        summary[config] = {
            "mean": statistics.mean(scores),
            "std": statistics.pstdev(scores),
            "median": statistics.median(scores),
            "train": statistics.mean(train),
            "seeds": len(group),
            "per_seed": {row["seed"]: row["eval_mean"] for row in group},
        }
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
    return "\n".join(lines), summary


CONTENDERS_NOTE = "`a2c`: SB3's A2C with the zoo's `a2c.yml`; `a2c_plus`: A2CPlus with `hyperparams/a2c_plus.yml`"
# The Atari `a2c_plus` rows ran before the `atari` entry took shared heads; the benchmark pins what they ran
ATARI_CONTENDERS_NOTE = (
    "`a2c`: SB3's A2C with the zoo's `a2c.yml`; `a2c_plus`: A2CPlus with the `atari` entry of "
    "`hyperparams/a2c_plus.yml` as these rows ran, with separate actor and critic heads (`learning.py` keeps it "
    "as `ATARI_CONTENDERS`); the entry shared their hidden layer from the 1M-step ablation (section 3) until it "
    "took the SpaceInvaders notebook's recipe (`a2c_plus_notebook` of the 10M table)"
)

# What the configs of an experiment are, where the table alone does not say it
NOTES = {
    "lunarlander": (
        f"{CONTENDERS_NOTE} (tuned below); "
        "`a2c_plus_notebook`: the reference notebook's (shared/seeds/004) settings as first written here, with "
        "A2CPlus's loss and clip: a mean policy loss, the global norm clipped to 0.5, torch's RMSprop. The notebook "
        "reports a training average of ~117 from one run, comparable to the last-100-episodes column. "
        "`a2c_plus_notebook_faithful`: its A2C class line by line, one update of which equals the notebook's "
        "transcribed loss and clipped gradient (tests/test_notebook_lunar_lander.py). The notebook sums the policy "
        "loss over its 40 transitions where A2CPlus takes the mean, so its critic and entropy terms weigh 40 times "
        "less (here vf_coef and ent_coef divided by 40); it clips each gradient tensor on its own "
        "(`grad_clip='per_parameter'`, at 0.5 / 40 for gradients 40 times smaller); Keras' RMSprop is "
        "RMSpropTFLike with eps / 40^2 (the same steps, once its first ~150 updates are past). It beats the "
        "notebook's number: median 152.6 over 5 seeds for the training episodes, against -85.3 as first written. "
        "`a2c_plus_notebook_faithful_global_clip`: the same with the global norm clipped instead: median 111.4, "
        "lower at 4 of the 5 seeds, so clipping each tensor accounts for part of the gain and the loss's weights "
        "and the optimiser for the rest."
    ),
    "spaceinvaders": (
        f"{ATARI_CONTENDERS_NOTE}; `a2c_plus_batch_stats`: the same with BatchNorm batch statistics during rollouts "
        "(`rollout_batch_norm='batch'`), the candidate default from the short Atari ablation. Seeds 3 and 4 ran "
        "a day after seeds 0-2 (the contenders' command named seed 5 too and was stopped after seed 4), seeds 5-8 "
        "of `a2c_plus` and `a2c` in later sessions. Over seeds 0-4 `a2c_plus_batch_stats` has the best mean "
        "and median, ahead of `a2c_plus` at three seeds of five, but by less than one standard deviation over "
        "seeds, and it trained about a third slower (its rollouts run BatchNorm in training mode, and its update "
        "splits the batch by env step), so the `atari` entry kept the running statistics then. "
        "`a2c_plus_shared_heads`: the `atari` entry that followed, shared heads, run in later sessions on the "
        "same seeds (seeds 5-8 once A2CPlus released torch's OpenMP threads before each step, which changes their "
        "speed, not their results). Seed by seed it ends above `a2c_plus` at three of the nine, its mean a few "
        "points lower and well within the spread over seeds, with a smaller spread of its own: at this budget the "
        "two head layouts are level, and the entry keeps shared heads for their lead at 1M steps (section 3) and "
        "their speed. Section 4 weighs both A2CPlus configs against `a2c`, seed by seed too. The curves differ "
        "more than the final evaluations: see the learning-speed table below, from the curves of the seeds "
        "with training logs."
    ),
    "breakout": f"{ATARI_CONTENDERS_NOTE}.",
    "breakout_1m": (
        f"{ATARI_CONTENDERS_NOTE}. Twice the budget of the table above, where neither algorithm played better than "
        "random; one run takes about 35 minutes on this machine. Both curves rise only in the last few hundred "
        "thousand steps, alike for both algorithms (the learning-speed table below), so the final evaluations are "
        "still below random play (1.7) and say nothing yet about which learns Breakout better."
    ),
    "spaceinvaders_10m": (
        f"{ATARI_CONTENDERS_NOTE}; `a2c_plus_shared_heads`: the `atari` entry that followed, shared heads, started in "
        "a later session; `a2c_plus_head_batch_norm`: the entry with a BatchNorm before its shared hidden layer's "
        "ReLU (`head_batch_norm=True`), started once the entry's run had lost most of that layer's units (the "
        "hidden-units table below: at 3.7M steps 2.5% of them fire in a typical state, against 43-45% for SB3's A2C "
        "at 200k and 1M steps). It kept its units (0.2% never fire at 10M steps) but not its exploration: its "
        "policy's entropy fell to 0.37 at 5.2M steps and 0.0002 at 10M, and the games it played grew alike until, "
        "from about 7.6M steps on, 3,312 of its 3,314 training games (its monitor logs) and all 30 evaluation games "
        "were one and the same game, 285 points in 2,903 frames. The emulator is deterministic and a near-"
        "deterministic policy replays one game; the entropy bonus of 0.01 did not hold it back. The entry's own run, "
        "gone on from 3.7M steps, recovered without its units: its last 100 training games rose from 164-227 "
        "(2.5M-3.7M steps) to 293-373 (4.2M-4.6M), swung between 162 and 431 after that, and stood at 422.9 at "
        "6.5M, while 66.6% of the layer's units never fired at 6.5M (49.2% at 3.7M): dead units do not explain "
        "its dip by themselves. The checkpoints of the unfinished runs (the progress table) were lost with the "
        "machine that held them, so their rows there stay where those runs stopped. `a2c_plus_notebook`: the "
        "SpaceInvaders notebook's own recipe (shared/seeds/000; the config in benchmarks/learning.py says where "
        "A2CPlus still differs), one update of which equals the notebook's transcribed loss and gradient "
        "(tests/test_notebook_recipe.py); it asks whether the stall at 200-300 from 1M to 4M steps is in the "
        "entry's design choices or shared by the notebook's recipe run through A2CPlus's pipeline. It is in the "
        "design choices: at seed 0 the recipe's last 100 training games averaged 421.8 at 3.0M steps and 488-511 "
        "from 3.7M to 3.9M (the progress table), where the shared-heads entry stood at 164-240 from 2.4M to 4.1M "
        "and separate heads at 161-286 from 0.5M to 7M, on the same pipeline and backend. Its checkpoint at 3.9M "
        "was lost with its machine; the `atari` entry has been this recipe since, and its seed 1 started again "
        "from zero. Which of the recipe's differences from the former entry (8 envs and 10-step rollouts, torch's "
        "RMSprop, batch statistics in the rollout, 3x3 kernels, separate heads at PyTorch's init) matters is not "
        "screened yet. "
        "All run on the native backend (`native_atari: True`) to fit the budget into fewer "
        "hours: the same observations and semantics as SubprocVecEnv, except the few frames the standard wrappers "
        "play unseen after a reset or a lost life (docs/experiments.md, Native Atari backend). One run of "
        "10M steps takes longer than a session on this machine, so it saves a checkpoint every 100,000 steps "
        "and the same command goes on from the last one; each part logs to its own folder (the CSV's "
        "`log_dir` lists them), and the games in play when a part stopped are not counted."
    ),
    "cartpole": f"{CONTENDERS_NOTE}.",
    "lunarlander_normalized": (
        "Each config is trial 65 with the zoo's `normalize: true` (VecNormalize of observations and rewards; the "
        "evaluation uses the training statistics), gamma 0.999 and GAE lambda 0.98; `normalized_lr_1.5e-3` "
        "also starts the linear learning rate at 1.5e-3, `normalized_ent_1e-3` raises the entropy coefficient "
        "to 1e-3. A two-seed scratch screen of 19 variations of trial 65 (normalisation, horizon, Adam, longer "
        "rollouts, more or fewer envs, wider heads) picked these three; its runs are not part of this report. "
        "`normalized_lr_1.5e-3` had the best median of the three and was the LunarLander-v3 entry of "
        "`hyperparams/a2c_plus.yml` until the second study below. The last two configs are that entry with GAE "
        "lambda 0.95, and with one 64-64 stack for both heads: the two leads of the LunarLander ablation over "
        "seeds 0-2 when it ran on that entry. Over five seeds neither lead beat the entry by more than a small "
        "part of the spread over seeds, so it kept lambda 0.98 and the separate actor and critic heads of the "
        "design. Seeds 0 and 1 (0-2 for the last two configs) chose these configs, so their scores at those "
        "seeds flatter them."
    ),
    "lunarlander_normalized_candidates": (
        "Trials 4 and 13 of the second study, as the A2CPlus converter writes them, on top of the entry's "
        "VecNormalize (whose gamma the zoo sets to each config's own). Trial 13 had the best median of every "
        "LunarLander candidate and the smallest spread over seeds, and was the LunarLander-v3 entry of "
        "`hyperparams/a2c_plus.yml` until trial 13 with entropy coefficient 1e-4 replaced it (below). Unlike the "
        "earlier configs, both trials score far lower with sampled actions (the last-100-training-episodes "
        "column) than with deterministic ones; the issue's evaluation is "
        "deterministic, as are the zoo's evaluations and `rl_zoo3.enjoy` for LunarLander."
    ),
    "lunarlander_refined_candidates": (
        "The two leaders of the third study: trial 13 (then the entry) with gamma 0.999, and with 256-256 heads. "
        "Over the same five seeds neither reaches trial 13's median (the table above), so it stayed; the "
        "narrower heads train about 1.5 times as fast as the 512-wide gamma row, run beside them (not paired), "
        "for a median 2 points below trial 13's."
    ),
    "lunarlander_trial_13_variants": (
        "Trial 13 with one setting changed in each row, validated without a study first, since the third study's "
        "single runs did not predict their validation: twice the envs (16: twice the batch, half the updates), "
        "and the two changes that came next in that study, entropy coefficient 1e-4 (its trial 9) and value "
        "coefficient 0.8 (trial 10). Entropy coefficient 1e-4 had the best median of every LunarLander "
        "candidate on these seeds, ahead of trial 13 (171.8) at three of them. Stronger entropy bonuses, 3e-4 "
        "and 1e-3, ran after it and did not improve on it: 3e-4 has both the best and the worst seed of this table."
    ),
    "lunarlander_fresh_seeds": (
        "Seeds 0-4 chose every candidate above, so their scores there flatter them. Here trial 13 and trial 13 "
        "with entropy coefficient 1e-4 run on five seeds that chose nothing. Both score lower than on seeds 0-4 "
        "(trial 13's median falls from 171.8 to the one below), and the entropy coefficient 1e-4 keeps a median "
        "and mean above trial 13's, though not at every seed. It is now the LunarLander-v3 entry of "
        "`hyperparams/a2c_plus.yml`, and the `a2c_plus` rows of the LunarLander table and ablation were run "
        "again on it."
    ),
    "lunarlander_entry_variants": (
        "The entry (trial 13 with entropy coefficient 1e-4: 190, 178, 200, 141 and 190 at seeds 0-4 in the "
        "LunarLander-v3 table) with one setting changed in each row: twice the updates (4 envs, or a learning rate of "
        "3.5e-5 instead of 2.4545e-5), smaller learning rates, 256-256 heads, or VecNormalize of observations "
        "only (rewards unscaled). A row stopped once it was clearly behind the entry at the same seeds: 4 envs, "
        "3.5e-5 and the narrower heads after seed 0, unscaled rewards after seed 1, 1.75e-5 after seed 2. Only "
        "1.2e-5 ran all five seeds, and its median is below the entry's, so the entry stays."
    ),
    "lunarlander_adam": (
        "Adam, which none of the three studies could sample (the A2CPlus sampler offers torch's and the TF-like "
        "RMSprop): the entry with Adam (eps 1e-5) in place of the TF-like RMSprop, at the entry's learning rate "
        "and at 1e-4, and PPO's usual LunarLander shape run as A2C (16 envs x 16 steps, GAE(0.95), gamma 0.99, "
        "64-64 Tanh heads, no entropy bonus, value coefficient 0.5, gradient norm 0.5) with Adam at 3e-4 and "
        "1e-3, all on the entry's VecNormalize. A two-seed screen: the entry scores 190 and 178 at these seeds, "
        "and every row is far behind it at one seed or both, so none went on to five seeds."
    ),
    "ablation_lunarlander": (
        "`a2c_plus`: the LunarLander-v3 entry of `hyperparams/a2c_plus.yml` (trial 13 of the second study with "
        "entropy coefficient 1e-4: GAE with lambda 0.99872, 512-512 Tanh heads); each other row changes one "
        "thing: one shared 512-512 stack for both heads, GAE(0.95), or n-step returns."
    ),
    "ablation_atari": (
        "`a2c_plus`: the `atari` entry of `hyperparams/a2c_plus.yml` before it took shared heads (separate actor and "
        "critic heads); each other row changes one thing: no BatchNorm, BatchNorm batch statistics during rollouts, "
        "shared heads (the entry since), GAE(0.95), torch's RMSprop instead of the TF-like one."
    ),
    "ablation_atari_1m": (
        "`a2c_plus`: the `atari` entry of `hyperparams/a2c_plus.yml` before it took shared heads (TF-like RMSprop, "
        "separate ReLU heads); `torch_rmsprop`: torch's RMSprop instead; `torch_rmsprop_leaky_relu`: that with leaky "
        "ReLU heads (these two at seed 0 only); `shared_heads`: one hidden layer for actor and critic, the `atari` "
        "entry since these runs; `a2c`: SB3's A2C with the zoo's `a2c.yml`, run in a later session for the "
        "comparison at this budget (section 4). All on the native backend over 1M steps; seed 0 is the 10M run's "
        "seed. They test a reading of the 10M run, whose policy stayed close to uniform while the actor's own hidden "
        "layer barely moved: its gradients are far below the root of the TF-like RMSprop's epsilon (1e-5, added "
        "under the root), so its steps are about a hundredth of the learning rate (the last table). Torch's "
        "RMSprop adds epsilon after the root, and its larger steps silenced nine tenths of the heads' ReLU units "
        "by 1M steps, which then pass no gradient at all; with leaky ReLUs most of the actor's stay below zero too, "
        "and the run scored lowest. The shared layer, which the critic's larger gradients reach too, moves 1.9 "
        "to 2.6 times as far per update as the separate heads' actor layer at the same seed (0.020-0.025 of the "
        "learning rate against 0.0086-0.011 over seeds 0-2) and keeps 88-95% of its units firing. Over "
        "seeds 0-2 shared heads scored above separate heads at each seed, by 46.8, 1.3 and 19.2 points (22.4 on "
        "average, against a spread of the separate heads' scores over seeds of 7.7), and trained at 683-737 "
        "steps/s against 625-639 for the separate heads' runs that had the machine to themselves (seed 0 of "
        "`a2c_plus` shared it for part of its run). Three seeds do not make the lead certain, but shared "
        "heads measured best on score and on speed, so the `atari` entry shared the hidden layer from then on; "
        "`CnnPolicy` keeps separate heads as its default, as the design has them. `head_batch_norm`: the entry with "
        "a BatchNorm before its shared layer's ReLU (`head_batch_norm=True`), run in a later session to test the lead "
        "of the 10M runs (the hidden-units table of SpaceInvaders at 10M steps, section 2: the entry's run lost most "
        "of that layer's units after 1M steps; the run with head BatchNorm kept them, but its policy collapsed into "
        "replaying one game and it ended at 285.0, below the separate heads' 295.0). At 1M steps, where the entry's "
        "units still fire, it scored below the entry at each seed (by 44.3, 26.0 and 39.7 points) and below SB3's "
        "A2C, and trained at 551-642 steps/s: BatchNorm in the heads cost score and speed at 1M steps and did not "
        "make it good by 10M, so the entry keeps plain heads."
    ),
}


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


def batch_norm_section() -> list[str]:
    """
    The gap between the policy that acted and the one the gradient step differentiates (benchmarks/batch_norm.py):
    one table per run, each over its own steps.
    """
    names = sorted(path.stem for path in RESULTS.glob("batch_norm*.csv"))
    if not names:
        return []
    parts = [
        "### BatchNorm: the policy that acted and the policy the gradient step differentiates",
        "The rollouts act with BatchNorm's running statistics and the gradient step normalises its batch with the "
        "batch's own. The mismatch is the mean KL divergence from the acting policy to the policy the step "
        "differentiates, on the rollout's states; it is judged against how far the step then moves the acting "
        "policy (same KL, before and after the step). The surrogate is the mean of advantage times "
        "log-probability of the actions taken, under the acting policy: a step that raises it improved the "
        "policy that will act next. The entry's learning rate decays linearly to 0 over its run's budget, so a "
        "run's last steps are small, and so are its first, while the TF-like RMSprop's squared-gradient "
        "average, which starts at 1, settles. Medians over the probes of each span.",
    ]
    for name in names:
        rows, meta = _read(name), _meta(name)
        first, last = meta.get("start_timesteps", 0), max(row["timesteps"] for row in rows)
        where = f"a {meta['budget']:,}-step run" if "budget" in meta else f"the run's first {last:,} steps"
        if first:
            where = f"{meta['n_timesteps']:,} steps from a checkpoint at {first:,} of a {meta['budget']:,}-step run (`--load`)"
        lines = [
            f"`{meta['command']}`: the former `atari` entry (`SHARED_HEADS_ATARI`) on {meta['env']} (native backend, "
            f"{meta['n_envs']} games, seed "
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
    return parts


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


def _experiment_header(name: str) -> str:
    experiment = EXPERIMENTS[name]
    rows = _read(name)
    budget = rows[0]["n_timesteps"] if rows and experiment.evaluation != "threshold" else experiment.n_timesteps
    seeds = sorted({row["seed"] for row in rows}) or list(experiment.seeds)
    figure = f"\n\n![{name}](benchmarks/{name}.png)" if (RESULTS / f"{name}.png").exists() else ""
    meta = _meta(name)
    if not rows:
        return f"{experiment.env_id}, budget {budget:,} steps, seeds {seeds}." + (f" {NOTES[name]}" if name in NOTES else "")
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
        f"speed comparison (runs shared the machine, see section 1).{figure}" + (f"\n\n{NOTES[name]}" if name in NOTES else "")
    )


def _throughput_section(name: str, title: str, command: str, note: str = "") -> str:
    rows = _read(name)
    if not rows:
        return f"### {title}\n\n*Not run yet: `{command}`.*"
    steps = rows[0]["steps"]
    meta = _meta(name)
    return (
        f"### {title}\n\nCommand: `{meta.get('command', command)}` ({steps:,} timed steps per run after a warm-up, "
        f"alternating runs, each in a fresh process). Machine: {_machine(meta)}. "
        f"Raw results: [{name}.csv](benchmarks/{name}.csv).\n\n{summarize(rows)}"
        + (
            f"\n\nWhere the time goes (mean seconds per run of {steps:,} steps):\n\n{breakdown(rows)}"
            if any(row["run"] in TABLE_TRAINING_RUNS for row in rows)
            else ""
        )
        + (f"\n\n{note}" if note else "")
    )


def tuning_section(name: str, command: str, note: str) -> str:
    """One LunarLander study: what ran, and its best trials by the study's own (single-seed) value."""
    path = RESULTS / f"{name}.csv"
    if not path.exists():
        return f"*Not run yet: `{command}`.*"
    with open(path, newline="") as file:
        trials = list(csv.DictReader(file))
    states = {state: sum(trial["state"] == state for trial in trials) for state in ("COMPLETE", "PRUNED", "FAIL")}
    best = sorted((trial for trial in trials if trial["value"]), key=lambda trial: -float(trial["value"]))[:5]
    lines = ["| trial | value (mean deterministic return of one evaluation) |", "|---|---|"]
    lines += [f"| {trial['number']} | {float(trial['value']):.1f} |" for trial in best]
    return (
        f"RL Zoo's Optuna tuning with the A2CPlus sampler, 500k steps per trial, two workers on one study: `{command}` "
        f"(all trials: [{name}.csv](benchmarks/{name}.csv), {len(trials)} trials: {states['COMPLETE']} complete, "
        f"{states['PRUNED']} pruned, {states['FAIL']} failed). A trial's value is one unseeded run, so the best "
        f"ones are validated over seeds. {note}\n\n" + "\n".join(lines)
    )


def defaults_section() -> str:
    """``A2CPlus("MlpPolicy", env_id).learn(n)`` against ``A2C`` the same way (benchmarks/defaults.py)."""
    from benchmarks.defaults import markdown_table

    rows = [
        row
        for name in ("defaults", "defaults_screen")
        if (RESULTS / f"{name}.csv").exists()
        for row in csv.DictReader(open(RESULTS / f"{name}.csv"))
    ]
    if not rows:
        return "*Not run yet: `python benchmarks/defaults.py`.*"
    return (
        "Command: `python benchmarks/defaults.py` ([defaults.csv](benchmarks/defaults.csv)); candidate defaults: "
        "`--variant NAME --output docs/benchmarks/defaults_screen.csv` (the variants in benchmarks/defaults.py). "
        "One env, as the quickstart builds it; the evaluation is 20 deterministic episodes of the final model.\n\n"
        + markdown_table(rows)
    )


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


# Raw scores of a uniformly random policy, from the DQN paper (Mnih et al., Nature 2015, Extended Data Table 2)
# The A2CPlus configs judged against SB3's A2C, per experiment, and how an Atari target names them
ABOVE_A2C_TARGETS = [
    ("lunarlander", "a2c_plus"),
    ("spaceinvaders", "a2c_plus"),
    ("spaceinvaders", "a2c_plus_shared_heads"),
    ("breakout", "a2c_plus"),
    ("breakout_1m", "a2c_plus"),
    ("spaceinvaders_10m", "a2c_plus"),
    ("spaceinvaders_10m", "a2c_plus_shared_heads"),
    ("spaceinvaders_10m", "a2c_plus_head_batch_norm"),
    ("ablation_atari_1m", "shared_heads"),
    ("ablation_atari_1m", "head_batch_norm"),
]
# The A2CPlus configs of the 10M experiment, each judged against the >= 1000 target too
TEN_MILLION_CONFIGS = tuple(config for name, config in ABOVE_A2C_TARGETS if name == "spaceinvaders_10m")
ENTRY_NAME = "A2CPlus (shared heads, the former `atari` entry)"
HEAD_BATCH_NORM_NAME = "A2CPlus (the former `atari` entry with `head_batch_norm=True`)"
# The 10M experiment and the 1M ablation name the same settings differently
A2C_PLUS_NAMES = {
    "a2c_plus": "A2CPlus (separate heads)",
    "a2c_plus_shared_heads": ENTRY_NAME,
    "shared_heads": ENTRY_NAME,
    "a2c_plus_head_batch_norm": HEAD_BATCH_NORM_NAME,
    "head_batch_norm": HEAD_BATCH_NORM_NAME,
}
RANDOM_SCORES = {"BreakoutNoFrameskip-v4": 1.7, "SpaceInvadersNoFrameskip-v4": 148.0}

# The commands of the tables not run yet; the recorded ones, saved with their rows, name the run
# a2c_plus_native_pipelined, which throughput.py no longer has
GPU_COMMAND = (
    "python benchmarks/throughput.py --runs a2c a2c_plus_native network_only env_only_native --n-envs 16 "
    "--threads 2 --pairs 3 --steps 40000 --output docs/benchmarks/native_atari_gpu"
)

ADAPTER_COMMAND = (
    "python benchmarks/throughput.py --runs env_only_native env_only_raw --n-envs 8 16 --threads 2 --pairs 7 "
    "--steps 100000 --output docs/benchmarks/native_adapter"
)


NATIVE_SHARED_HEADS_COMMAND = (
    "python benchmarks/throughput.py --runs a2c a2c_plus_native network_only --n-envs 8 16 --threads 2 --pairs 3 "
    "--steps 20000 --output docs/benchmarks/native_atari_shared_heads"
)

NATIVE_SHARED_HEADS_NOTE = (
    "The one-group comparison of the first native table, again with the `atari` entry's shared heads (the tables "
    "above and below ran separate heads). The ratio rose from 1.260 and 1.241 there to the figures here, and "
    "`network_only / a2c`, the most any env backend can give, from 1.878 and 1.718; not paired with those runs, "
    "which were on a machine running about a third slower, but the ratios are taken within pairs. The 1.5x target "
    "is missed here: emulating on the same two cores costs A2CPlus about a third of its rate, part of it to "
    "torch's OpenMP threads spinning meanwhile, which the next table releases."
)

OPENMP_RELEASE_COMMAND = (
    "python benchmarks/throughput.py --runs a2c a2c_plus a2c_plus_no_release a2c_plus_native "
    "a2c_plus_native_no_release network_only --n-envs 8 16 --threads 2 --pairs 3 --steps 20000 "
    "--output docs/benchmarks/openmp_release"
)

OPENMP_RELEASE_NOTE = (
    "After each parallel region the worker threads of torch's OpenMP runtime (libgomp in the Linux wheels) "
    "spin-wait for the next one, for milliseconds, on the two cores that the emulators need as soon as the "
    "actions are sent. Since commit 6d7bdb5 `AtariVecEnv.step_async`, and A2CPlus before it steps a "
    "`SubprocVecEnv`, release them (`omp_pause_resource_all` of OpenMP 5.0, `sb3_a2c_plus/common/openmp.py`); "
    "the next forward pass starts them again. The `_no_release` runs leave them spinning "
    "(`SB3_A2C_PLUS_KEEP_OPENMP_THREADS=1`), as every A2CPlus row of the tables above ran. The time saved is "
    "mostly in env stepping (the second table), and so is the gain of A2CPlus on SubprocVecEnv over A2C: it comes "
    "from how the rollout shares the cores, not from the network (SB3's A2C leaves the threads spinning; the same "
    "call would likely speed it up too, not measured here). The trained weights are the same either way "
    "(`tests/test_openmp.py` compares them bit for bit). All runs of this table are paired, on a machine "
    "running faster than on the days of the tables above: compare ratios, such as `a2c_plus_native_no_release "
    "/ a2c` here with `a2c_plus_native / a2c` in the shared-heads table (1.473 and 1.454 against 1.342 and 1.404)."
)

MALLOC_COMMAND = (
    "MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4294967296 python benchmarks/throughput.py --runs a2c "
    "a2c_plus_native network_only --n-envs 8 16 --threads 2 --pairs 3 --steps 20000 "
    "--output docs/benchmarks/native_atari_malloc"
)


def targets(summaries: dict[str, dict[str, dict[str, float]]]) -> str:
    """The issues' targets, each checked against the measured numbers."""
    lines = ["| target | measured | met |", "|---|---|---|"]

    def add(target: str, measured: str, met: bool | str | None) -> None:
        verdict = met if isinstance(met, str) else "yes" if met else "no" if met is not None else "not measured"
        lines.append(f"| {target} | {measured} | {verdict} |")

    for name, setting in (("throughput", ""), ("openmp_release", ", OpenMP threads released")):
        for (n_envs, threads), ratios in pair_ratios(_read(name), "a2c_plus").items():
            ratio = statistics.median(ratios)
            target = f"training steps/s A2CPlus / A2C >= 1.0 ({n_envs} envs, {threads} torch threads{setting})"
            add(target, f"{ratio:.3f}", ratio >= 1.0)
    native_tables = (
        ("native_atari", 1.5, "", False),
        ("native_atari_malloc", 1.5, ", malloc keeps freed memory", False),
        ("native_atari_gpu", 2.5, ", GPU machine", True),
        ("native_atari_shared_heads", 1.5, ", shared heads", False),
        ("openmp_release", 1.5, ", shared heads, OpenMP threads released", False),
    )
    native_results = {name: _read(name) for name, *_ in native_tables}
    for name, target, setting, needs_gpu in native_tables:
        native = native_results[name]
        without_gpu = needs_gpu and _meta(name).get("environment", {}).get("gpu", "none") == "none"
        # What A2CPlus would reach if emulation cost nothing: no env backend can beat it
        bounds = {key: statistics.median(ratios) for key, ratios in pair_ratios(native, "network_only").items()}
        for run, groups in (("a2c_plus_native", "one group"), ("a2c_plus_native_pipelined", "two groups")):
            for (n_envs, threads), ratios in pair_ratios(native, run).items():
                ratio = statistics.median(ratios)
                bound = f" (emulation free: {bounds[n_envs, threads]:.3f})" if (n_envs, threads) in bounds else ""
                met: bool | str = ratio >= target
                if without_gpu:
                    met, bound = "not measured", f"{bound}; that run had no GPU"
                add(
                    f"A2CPlus on the native backend ({groups}) / A2C on SubprocVecEnv >= {target} "
                    f"({n_envs} envs, {threads} threads{setting})",
                    f"{ratio:.3f}{bound}",
                    met,
                )
    if not native_results["native_atari_gpu"]:
        add(
            "A2CPlus on the native backend / A2C on SubprocVecEnv >= 2.5 on a GPU machine with many cores",
            f"needs a GPU machine (none was lent to this project's runs): `{GPU_COMMAND}`",
            None,
        )
    adapter = pair_ratios(_read("native_adapter"), "env_only_native", base="env_only_raw")
    for (n_envs, _), ratios in adapter.items():
        overhead = statistics.median(1 - ratio for ratio in ratios)
        add(f"native adapter overhead vs raw ale_py < 10% ({n_envs} envs)", f"{overhead:.1%}", overhead < 0.10)
    if not adapter:
        add("native adapter overhead vs raw ale_py < 10%", f"not run yet: `{ADAPTER_COMMAND}`", None)
    lunar = summaries.get("lunarlander", {})
    if "a2c_plus" in lunar:
        add(
            "LunarLander-v3, 500k steps: A2CPlus median >= 200",
            f"{lunar['a2c_plus']['median']:.1f}",
            lunar["a2c_plus"]["median"] >= 200,
        )
    for name, config in ABOVE_A2C_TARGETS:
        scores = summaries.get(name, {})
        env_id, budget = EXPERIMENTS[name].env_id, EXPERIMENTS[name].n_timesteps
        contender = A2C_PLUS_NAMES[config] if EXPERIMENTS[name].evaluation == "atari" else "A2CPlus"
        target = f"{env_id}, {budget:,} steps: {contender} above SB3 A2C (mean final evaluation)"
        if config in scores and "a2c" in scores:
            plus, base = scores[config]["mean"], scores["a2c"]["mean"]
            seeds = f"{scores[config]['seeds']} and {scores['a2c']['seeds']} seeds"
            random_score = RANDOM_SCORES.get(env_id)
            if random_score is not None and max(plus, base) <= random_score:
                # Below random play, the order of the two says nothing about learning
                add(target, f"{plus:.1f} vs {base:.1f} ({seeds}); neither above random play ({random_score})", "inconclusive")
            elif min(scores[config]["seeds"], scores["a2c"]["seeds"]) < 2:
                # One seed has no spread to weigh the gap against
                add(target, f"{plus:.1f} vs {base:.1f} ({seeds}); one seed cannot tell a gap from luck", "inconclusive")
            else:
                caveats = _within_noise(scores[config], scores["a2c"]) + _paired_wins(scores[config], scores["a2c"])
                add(target, f"{plus:.1f} vs {base:.1f} ({seeds}){caveats}", plus > base)
        else:
            add(target, f"not run yet: `python benchmarks/learning.py {name}`", None)
    cartpole = summaries.get("cartpole", {})
    if "a2c_plus" in cartpole and "a2c" in cartpole:
        plus, base = cartpole["a2c_plus"]["mean"], cartpole["a2c"]["mean"]
        measured = f"{plus:,.0f} vs {base:,.0f}{_within_noise(cartpole['a2c_plus'], cartpole['a2c'])}"
        add("CartPole-v1: fewer steps to 475 than SB3 A2C (mean over seeds)", measured, plus < base)
    startup = _meta("startup")
    if startup:
        hook_ms = startup["hook_import_ms_median"]
        add("RL Zoo hook adds < 5 ms to `python -c pass` (median)", f"{hook_ms:.2f} ms", hook_ms < 5)

    # Why not measured: how long 10M steps take at the fastest training rates measured, per algorithm
    def hours_for_10m(rows: list[dict]) -> dict[str, float] | None:
        fastest = {
            run: max((row["steps_per_second"] for row in rows if row["run"] == run), default=0.0)
            for run in ("a2c", "a2c_plus_native")
        }
        return {run: 10_000_000 / rate / 3600 for run, rate in fastest.items()} if all(fastest.values()) else None

    hours = hours_for_10m([*native_results["native_atari"], *native_results["native_atari_malloc"]])
    not_run = "not run yet"
    if hours:
        not_run = (
            f"not run: one seed of 10M steps takes {hours['a2c_plus_native']:.1f} hours for A2CPlus and "
            f"{hours['a2c']:.1f} for SB3 A2C at their fastest training rates in section 1"
        )
        gpu_hours = hours_for_10m(native_results["native_atari_gpu"])
        if gpu_hours:
            not_run += f" ({gpu_hours['a2c_plus_native']:.1f} and {gpu_hours['a2c']:.1f} on the GPU machine)"
    progress = _read("spaceinvaders_10m_progress")
    for config in TEN_MILLION_CONFIGS:
        target = f"SpaceInvaders >= 1000 after 10M steps, {A2C_PLUS_NAMES[config]}"
        long_run = summaries.get("spaceinvaders_10m", {}).get(config)
        if long_run:
            seeds = f"{long_run['seeds']} seed{'s' * (long_run['seeds'] > 1)}"
            add(target, f"{long_run['mean']:.1f} ({seeds})", long_run["mean"] >= 1000)
            continue
        measured = not_run
        started = [point for point in progress if point["config"] == config]
        if started:
            last = max(started, key=lambda point: point["timesteps"])
            measured = measured.replace("not run: ", "not finished: ", 1)
            measured += (
                f"; under way: seed {last['seed']} at {last['timesteps']:,} steps, its last 100 training games "
                f"{last['last_100_train_mean']:.1f}"
            )
        add(target, f"{measured}; `python benchmarks/learning.py spaceinvaders_10m --configs {config}`", None)
    return "\n".join(lines)


def main() -> None:
    global RESULTS
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the benchmark scripts wrote their results")
    parser.add_argument("--output", type=Path, default=DOCS / "benchmarks.md")
    args = parser.parse_args()
    RESULTS = args.results
    sections = [
        "# Benchmarks",
        "This page is generated by `python benchmarks/report.py` from the CSV files in "
        "[docs/benchmarks/](benchmarks/), which the scripts in [benchmarks/](../benchmarks/) write; nothing "
        "in it is edited by hand. Each table names the command that produced it. Means and standard deviations "
        "are over seeds (of each seed's own mean).",
        "## 1. Throughput",
        _throughput_section(
            "throughput",
            "SB3 A2C and A2CPlus on SubprocVecEnv (SpaceInvaders)",
            "python benchmarks/throughput.py --n-envs 8 16 --threads 1 2 --pairs 3 --steps 20000",
            "Run with the former `atari` entry's shared heads (`head_layout='shared'`): after the BatchNorm backbone "
            "A2CPlus has one 3136x512 hidden layer, as SB3's CnnPolicy, where it had one for the actor and one for "
            "the critic; `env_only` was left out of this run (its rates: the native backend's table below). The "
            "previous run of this command, with separate heads (the file at commit a3dd63f, on a machine running "
            "about a third slower), measured 0.939 and 0.965 with 8 envs, 1.002 and 1.059 with 16: on a batch of 40 "
            "samples the critic's own hidden layer cost more than the channels-last convolutions save. Without it "
            "A2CPlus's update is faster than A2C's at every setting (the second table), and the rollouts cost the same.",
        ),
        _throughput_section(
            "native_atari",
            "Native Atari backend (SpaceInvaders)",
            "python benchmarks/throughput.py --runs a2c a2c_plus_native network_only env_only env_only_native "
            "env_only_raw --n-envs 8 16 --threads 2 --pairs 3 --steps 20000 --output docs/benchmarks/native_atari",
            "`a2c_plus_native` plays all games in one group, as `AtariVecEnv` always does now; "
            "`a2c_plus_native_pipelined` split them into two groups and emulated one while the policy computed the "
            "other's actions (`native_atari_groups: 2`; the default from 16 games up when this table ran, until one "
            "group measured faster at every pair, here and in the malloc table); its env stepping overlapped "
            "the forward passes, so it is counted in its rollout time. That pipelined two-group path reached "
            "0.85-0.93 of one group's rate on 2 cores (0.87-0.93 with 16 games; the `two groups / one group` "
            "column) and 0.99 on the GPU machine, never faster, so it "
            "was removed, with its `native_atari_groups` hyperparameter and its run: the commands of this table, the "
            "malloc table and the GPU table are the ones that produced their rows and name "
            "`a2c_plus_native_pipelined`, which `benchmarks/throughput.py` no longer has (leave it out to rerun "
            "them). `network_only` trains the same A2CPlus on "
            "one fixed observation that costs nothing to make: its rate is what training would reach if emulation "
            "were free, so `network_only / a2c` bounds the ratio any env backend can give on this machine. "
            "Run at commit 51053b4 (the code of 030b360), right after the table above and on the same "
            "slow-running machine. Every ratio is lower than at the previous run (the file at commit 36a69f7: "
            "`a2c_plus_native / a2c` 1.314 and 1.376, `network_only / a2c` 1.944 and 1.970), the bound that no "
            "env backend affects included, so the machine rather than the code moved them.",
        ),
        _throughput_section(
            "native_atari_shared_heads",
            "Native Atari backend with the shared heads (SpaceInvaders)",
            NATIVE_SHARED_HEADS_COMMAND,
            NATIVE_SHARED_HEADS_NOTE,
        ),
        _throughput_section(
            "openmp_release",
            "OpenMP threads released before each step, on SubprocVecEnv and the native backend (SpaceInvaders)",
            OPENMP_RELEASE_COMMAND,
            OPENMP_RELEASE_NOTE,
        ),
        _throughput_section(
            "native_atari_malloc",
            "Native Atari backend, with malloc keeping freed memory (SpaceInvaders)",
            MALLOC_COMMAND,
            "The same training runs with glibc's malloc told to keep the memory that is freed, for both "
            "algorithms alike. By default it hands the large blocks an update frees back to the system and "
            "page-faults them in again on the next update, more or less often from one process to the next. "
            "Compare the update times with the table above with care: this one ran earlier, before commit "
            '00bf465 and on a faster-running machine, so the two are not paired. docs/experiments.md, "Speed on CPU", '
            "shows how to train with these settings.",
        ),
        _throughput_section(
            "native_atari_gpu",
            "Native Atari backend on a GPU machine (SpaceInvaders)",
            GPU_COMMAND,
            "The same comparison where the network runs on a GPU and many cores emulate: the case the native "
            "backend, and the two groups of games it then had overlapping emulation with the forward pass, were "
            "meant for. Run on a "
            "lent machine, with the code whose rollouts and updates skip torch's argument checks of the action "
            "distributions (each costs a host-device sync). The 2.5x target is missed, and `network_only / a2c` "
            "shows that no env backend can reach it with these settings: at 16 "
            "games and 5 steps per update a forward pass sees 16 observations and an update 80, so the GPU waits "
            "for Python to launch its kernels, and A2CPlus's larger network (BatchNorm and two 512-unit heads) costs "
            "launches rather than arithmetic. Two groups of games were no faster than one here either, and the "
            "two-group path was removed (see the first native table).",
        ),
        _throughput_section(
            "native_adapter",
            "Native Atari backend: the adapter's overhead over ale_py (SpaceInvaders, random actions)",
            ADAPTER_COMMAND,
            "Both step the same C++ games with the same emulator settings; `env_only_native` adds what "
            "`AtariVecEnv` does in Python (episode statistics, frame-stack masking after episode ends, resets, "
            "infos) and used the default groups of the time (two from 16 games). Single runs on this 2-core machine swing by "
            "up to a third either way (see the pairs), and the environment-only runs of the table above last a "
            "few seconds each, so the overhead target is judged here, on the median of more and longer pairs.",
        ),
        "### Start-up cost of the RL Zoo hook",
        startup_section(),
        "## 2. Learning at equal budgets",
    ]
    summaries = {}

    def learning_section(name: str, *before: str) -> list[str]:
        """An experiment's header and table after ``before`` (its title, a study); records its summary."""
        table, summaries[name] = learning_table(name)
        extra = [section for section in (learning_speed_table(name), progress_table(name), heads_table(name)) if section]
        return [*before, _experiment_header(name), table, *extra]

    for name, title in [
        ("lunarlander", "LunarLander-v3"),
        ("cartpole", "CartPole-v1: steps to a mean return of 475 (evaluated every 5,000 steps on 20 episodes)"),
        ("spaceinvaders", "SpaceInvaders"),
        ("breakout", "Breakout"),
        ("breakout_1m", "Breakout, 1M steps"),
        ("spaceinvaders_10m", "SpaceInvaders, 10M steps"),
    ]:
        sections += learning_section(name, f"### {title}")
        if name == "cartpole":
            sections += ["### README's vector quickstart, every argument at its default", defaults_section()]
    sections += [
        "### Tuning A2CPlus on LunarLander-v3",
        tuning_section(
            "tune_lunarlander",
            "bash benchmarks/tune_lunarlander.sh first",
            "The best by median over seeds (below), trial 65, was the base of the LunarLander-v3 entry of "
            "`hyperparams/a2c_plus.yml` (with what the table after it measured best) until the second study.",
        ),
    ]
    sections += learning_section("lunarlander_candidates")
    sections += learning_section("lunarlander_normalized", "### Trial 65 with normalised observations and rewards")
    sections += learning_section(
        "lunarlander_normalized_candidates",
        "### A second study, around the normalised entry",
        tuning_section(
            "tune_lunarlander_normalized",
            "bash benchmarks/tune_lunarlander.sh normalized",
            "Trials 0-3 were enqueued: the entry, and the entry with GAE lambda 0.95, with entropy coefficient "
            "1e-3, and with trial 65's learning rate (0, 1 and 3 are configs of the table above, with five seeds). "
            "The best trials the sampler found, 4 and 13, are validated over five seeds in the next table.",
        ),
    )
    sections += learning_section(
        "lunarlander_refined_candidates",
        "### A third study, around trial 13",
        tuning_section(
            "tune_lunarlander_refine",
            "bash benchmarks/tune_lunarlander.sh refine",
            "All twelve trials were enqueued and none sampled or pruned: trial 13 of the second study (trial 0 "
            "here) and eleven variations, each changing one setting (the CSV lists them). Trial 13 itself scored "
            "2.5 here, against 144 to 204 over five seeds above: one run says little, so the two best "
            "variations are validated over the same five seeds in the next table.",
        ),
    )
    sections += learning_section("lunarlander_trial_13_variants", "### Trial 13 with one setting changed")
    sections += learning_section("lunarlander_fresh_seeds", "### Trial 13 against its best variant on fresh seeds")
    sections += learning_section("lunarlander_entry_variants", "### The entry with one setting changed")
    sections += learning_section("lunarlander_adam", "### The entry and a PPO-like setting with Adam")
    sections.append("## 3. Ablations")
    sections += learning_section("ablation_lunarlander", "### LunarLander-v3")
    sections += learning_section("ablation_atari", "### SpaceInvaders, short budget")
    sections += learning_section("ablation_atari_1m", "### SpaceInvaders, 1M steps: optimizer and heads")
    sections += batch_norm_section()
    sections += ["## 4. Targets", targets(summaries)]
    args.output.write_text("\n\n".join(sections) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
