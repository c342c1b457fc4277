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
#     Its trial 13 is the entry now: python benchmarks/learning.py lunarlander_normalized_candidates
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

case "${1:-}" in
    first) first_study ;;
    normalized) normalized_study ;;
    *) echo "usage: $0 first|normalized" >&2; exit 2 ;;
esac
