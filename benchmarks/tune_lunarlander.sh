#!/usr/bin/env bash
# The Optuna studies behind the LunarLander-v3 entry of hyperparams/a2c_plus.yml, run with RL Zoo's
# own tuning and the A2CPlus sampler, two workers on one SQLite study (benchmarks/runs/).
#
#   bash benchmarks/tune_lunarlander.sh first
#     Without VecNormalize (pinned, as the entry has it since).
#     Stage 1: 48 trials, TPE after 10 random ones, median pruning, 10 evaluation episodes.
#     Stage 2: 24 more trials without pruning, 20 evaluation episodes, starting from the zoo's A2C
#              LunarLander settings and a few variations, enqueued into the study.
#     The best trials are validated over seeds: python benchmarks/learning.py lunarlander_candidates
#
#   bash benchmarks/tune_lunarlander.sh normalized
#     Around the entry that the first study led to (trial 65 with VecNormalize, gamma 0.999, lambda 0.98,
#     learning rate from 1.5e-3): the entry and three variations are enqueued, then TPE with median
#     pruning, 36 trials in all, 20 evaluation episodes. VecNormalize and its gamma of 0.999 are pinned
#     (the zoo builds the envs before sampling, so every trial keeps that gamma for VecNormalize).
#     Its trial 13 became the entry: python benchmarks/learning.py lunarlander_normalized_candidates
#
#   bash benchmarks/tune_lunarlander.sh refine
#     Around trial 13 of that study: it and eleven variations, each changing one setting, enqueued and
#     run as they are (no sampling, no pruning), 20 evaluation episodes. VecNormalize with trial 13's
#     gamma and 8 envs are pinned, so that the stage reruns as it ran whatever the entry becomes.
#     The leaders are validated over seeds: python benchmarks/learning.py lunarlander_refined_candidates
#     Its trial 9 (ent_coef 1e-4) became the entry after lunarlander_trial_13_variants and
#     lunarlander_fresh_seeds validated it.
set -euo pipefail
mkdir -p "$(dirname "$0")/runs"
cd "$(dirname "$0")/runs"
export STORAGE=sqlite:///tune_lunarlander.db  # the Python steps below read it too

tune() {
    python -m rl_zoo3.train --algo a2c_plus --env LunarLander-v3 -optimize -n 500000 --n-evaluations 5 \
        --storage "$STORAGE" --sampler tpe --num-threads 1 --no-optim-plots "$@"
}

# Two workers on one study; the first creates it (or finds it, with the enqueued trials)
two_workers() {
    local log=$1 seed=$2
    shift 2
    tune --seed "$seed" "$@" > "${log}1.log" 2>&1 &
    sleep 20
    tune --seed $((seed + 1)) "$@" > "${log}2.log" 2>&1 &
    wait
}

first_study() {
    local args=(--study-name lunarlander --hyperparams normalize:False -f tune_logs)
    two_workers tune_worker 1 "${args[@]}" --n-trials 24 --pruner median --n-startup-trials 10 --eval-episodes 10
    python - <<'EOF'
import os

import optuna

study = optuna.load_study(study_name="lunarlander", storage=os.environ["STORAGE"])
zoo_a2c = dict(  # rl_zoo3's a2c.yml for LunarLander, in the A2CPlus sampler's terms
    advantage_estimator="nstep", n_steps=5, one_minus_gamma=0.005, learning_rate=8.3e-4, lr_schedule="linear",
    ent_coef=1e-5, vf_coef=0.5, max_grad_norm=0.5, normalize_advantage=False, optimizer="rmsprop",
    head_width=64, activation_fn="tanh",
)
for params in [
    zoo_a2c,
    {**zoo_a2c, "normalize_advantage": True},
    {**zoo_a2c, "advantage_estimator": "gae", "one_minus_gae_lambda": 0.05},
    {**zoo_a2c, "head_width": 128, "normalize_advantage": True, "learning_rate": 1.5e-3},
    {**zoo_a2c, "n_steps": 8, "one_minus_gamma": 0.01, "learning_rate": 1e-3, "ent_coef": 1e-3, "normalize_advantage": True},
    {**zoo_a2c, "one_minus_gamma": 0.003, "learning_rate": 2.7e-3, "ent_coef": 6.7e-4, "vf_coef": 0.64,
     "normalize_advantage": True, "head_width": 128},
]:
    study.enqueue_trial(params)
EOF
    two_workers tune2_worker 3 "${args[@]}" --n-trials 12 --pruner none --n-startup-trials 0 --eval-episodes 20
    # The zoo's report of the last worker to finish lists every trial of the study
    cp "$(ls -t tune_logs/a2c_plus/report_LunarLander-v3_*.csv | head -n 1)" ../../docs/benchmarks/tune_lunarlander.csv
}

normalized_study() {
    python - <<'EOF'
import os

import optuna

study = optuna.create_study(
    study_name="lunarlander_normalized", storage=os.environ["STORAGE"], direction="maximize", load_if_exists=True
)
entry = dict(  # that entry, in the sampler's terms
    advantage_estimator="gae", one_minus_gae_lambda=0.02, n_steps=5, one_minus_gamma=0.001, learning_rate=1.5e-3,
    lr_schedule="linear", ent_coef=5.4556e-5, vf_coef=0.55101, max_grad_norm=0.36276, normalize_advantage=False,
    optimizer="rmsprop", head_width=64, activation_fn="tanh",
)
for params in [
    entry,
    {**entry, "one_minus_gae_lambda": 0.05},
    {**entry, "ent_coef": 1e-3},
    {**entry, "learning_rate": 9.4005e-4},
]:
    study.enqueue_trial(params)
EOF
    two_workers tune_normalized_worker 5 --study-name lunarlander_normalized -f tune_logs_normalized \
        --hyperparams normalize:True gamma:0.999 --n-trials 18 --pruner median --n-startup-trials 8 --eval-episodes 20
    cp "$(ls -t tune_logs_normalized/a2c_plus/report_LunarLander-v3_*.csv | head -n 1)" \
        ../../docs/benchmarks/tune_lunarlander_normalized.csv
}

refine_study() {
    python - <<'EOF'
import os

import optuna

study = optuna.create_study(
    study_name="lunarlander_refine", storage=os.environ["STORAGE"], direction="maximize", load_if_exists=True
)
trial_13 = dict(  # trial 13 of lunarlander_normalized, in the sampler's terms
    advantage_estimator="gae", one_minus_gae_lambda=0.001279452669179112, n_steps=8,
    one_minus_gamma=0.0012927195234491565, learning_rate=2.454549262394674e-05, lr_schedule="linear",
    ent_coef=1.8624405121307026e-06, vf_coef=0.4129045016085292, max_grad_norm=3.6875753198090013,
    normalize_advantage=True, optimizer="rmsprop_tf", head_width=512, activation_fn="tanh",
)
for change in [
    {},
    {"learning_rate": 4.909e-05},
    {"learning_rate": 9.818e-05},
    {"lr_schedule": "constant"},
    {"head_width": 256},
    {"n_steps": 16},
    {"n_steps": 5},
    {"one_minus_gamma": 0.001},
    {"one_minus_gamma": 0.002},
    {"ent_coef": 1e-4},
    {"vf_coef": 0.8},
    {"max_grad_norm": 0.5},
]:
    study.enqueue_trial({**trial_13, **change})
EOF
    two_workers tune_refine_worker 7 --study-name lunarlander_refine -f tune_logs_refine \
        --hyperparams normalize:True gamma:0.9987072804765509 n_envs:8 --n-trials 6 --pruner none \
        --eval-episodes 20
    cp "$(ls -t tune_logs_refine/a2c_plus/report_LunarLander-v3_*.csv | head -n 1)" \
        ../../docs/benchmarks/tune_lunarlander_refine.csv
}

case "${1:-}" in
    first) first_study ;;
    normalized) normalized_study ;;
    refine) refine_study ;;
    *) echo "usage: $0 first|normalized|refine" >&2; exit 2 ;;
esac
