#!/usr/bin/env bash
# The Optuna study behind the LunarLander-v3 entry of hyperparams/a2c_plus.yml, run with RL Zoo's
# own tuning and the A2CPlus sampler, two workers on one SQLite study (benchmarks/runs/).
#   Stage 1: 48 trials, TPE after 10 random ones, median pruning, 10 evaluation episodes.
#   Stage 2: 24 more trials without pruning, 20 evaluation episodes, starting from the zoo's A2C
#            LunarLander settings and a few variations, enqueued into the study.
# The best trials are then validated over seeds: python benchmarks/learning.py lunarlander_candidates
set -euo pipefail
mkdir -p "$(dirname "$0")/runs"
cd "$(dirname "$0")/runs"

tune() {
    python -m rl_zoo3.train --algo a2c_plus --env LunarLander-v3 -optimize -n 500000 --n-evaluations 5 \
        --storage sqlite:///tune_lunarlander.db --study-name lunarlander --sampler tpe --num-threads 1 \
        --no-optim-plots -f tune_logs "$@"
}

tune --n-trials 24 --seed 1 --pruner median --n-startup-trials 10 --eval-episodes 10 > tune_worker1.log 2>&1 &
sleep 20  # the first worker creates the study
tune --n-trials 24 --seed 2 --pruner median --n-startup-trials 10 --eval-episodes 10 > tune_worker2.log 2>&1 &
wait

python - <<'EOF'
import optuna

study = optuna.load_study(study_name="lunarlander", storage="sqlite:///tune_lunarlander.db")
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

tune --n-trials 12 --seed 3 --pruner none --n-startup-trials 0 --eval-episodes 20 > tune2_worker1.log 2>&1 &
sleep 20
tune --n-trials 12 --seed 4 --pruner none --n-startup-trials 0 --eval-episodes 20 > tune2_worker2.log 2>&1 &
wait

# The zoo's report of the last worker to finish lists every trial of the study
cp "$(ls -t tune_logs/a2c_plus/report_LunarLander-v3_*.csv | head -n 1)" ../../docs/benchmarks/tune_lunarlander.csv
