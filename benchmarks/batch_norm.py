"""
Does BatchNorm make A2CPlus's gradient step differentiate another policy than the one that acted?
With ``rollout_batch_norm="running"`` the rollouts normalise with BatchNorm's running statistics and
the gradient step with the statistics of its own batch. This trains the zoo's former ``atari`` entry
(``shared_heads_atari`` in benchmarks/experiments.yml, which uses them; the entry now normalises each rollout
step's batch) on the native backend and, every ``--every`` updates, measures on that update's rollout:

- ``kl_rollout_to_step``: the mean KL divergence from the policy that collected it (running statistics)
  to the policy the gradient step differentiates (batch statistics): the mismatch;
- ``kl_step``: the same from the acting policy before the step to the acting policy after it: how far
  one update moves it, the scale the mismatch is judged against;
- ``surrogate_gain``: the change of the acting policy's surrogate, the mean over the rollout of
  advantage times log-probability of the action taken; above 0 where the step improved it.

    python benchmarks/batch_norm.py --n-timesteps 200000
    python benchmarks/batch_norm.py --n-timesteps 50000 --output docs/benchmarks/batch_norm_late \
        --load benchmarks/runs/spaceinvaders_10m/a2c_plus_shared_heads/seed_0/checkpoint.zip

With ``--load`` it goes on from a checkpoint of ``benchmarks/learning.py`` (weights, BatchNorm statistics,
optimiser state, step count) for ``--n-timesteps`` more steps, at the learning rate the checkpoint's run of
``--budget`` steps would have there: the same measurements later in a run, where the policy is sharper.

The probe restores BatchNorm's running statistics after its batch-statistics forward pass, so the run
trains as it would without it (tests/test_benchmarks.py checks the weights). Writes
docs/benchmarks/batch_norm.csv (one row per probe) and .json (command and machine), or ``--output`` .csv and
.json; the report shows every docs/benchmarks/batch_norm*.csv.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch as th
from stable_baselines3.common.callbacks import BaseCallback
from torch.distributions import Categorical, kl_divergence

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.checkpoints import restore  # noqa: E402
from benchmarks.common import (  # noqa: E402
    RESULTS_DIR,
    command_line,
    environment_info,
    write_csv,
    write_text_atomically,
    zoo_experiment,
)
from benchmarks.learning import SHARED_HEADS_ATARI  # noqa: E402

FIELDS = ["timesteps", "kl_rollout_to_step", "kl_step", "policy_entropy", "surrogate_gain"]


class MismatchProbe(BaseCallback):
    """
    Around every ``every``-th update: the action logits of the rollout's observations with the running and
    with the batch statistics before the step (``on_rollout_end``, just before ``train``), and with the running
    statistics after it (the next ``on_rollout_start``). With ``max_steps``, training stops after that many steps.
    """

    def __init__(self, every: int, max_steps: int | None = None) -> None:
        super().__init__()
        self.every, self.max_steps = every, max_steps
        self._start = 0
        self.rows: list[dict[str, float]] = []
        self._before: tuple[th.Tensor, th.Tensor, th.Tensor, Categorical, Categorical] | None = None
        self._rollouts = 0

    def _policy(self, obs: th.Tensor, batch_statistics: bool) -> Categorical:
        """
        The action distributions of ``obs`` with BatchNorm's running or batch statistics, in float64: early
        steps move the policy by KL divergences near 1e-8, which float32 rounding can turn negative.
        """
        policy = self.model.policy
        policy.set_training_mode(batch_statistics)
        with th.no_grad():
            return Categorical(logits=policy.get_distribution(obs).distribution.logits.double())

    def _on_rollout_end(self) -> None:
        self._rollouts += 1
        if (self._rollouts - 1) % self.every:
            return
        buffer, policy = self.model.rollout_buffer, self.model.policy
        obs = buffer.to_torch(buffer.observations.reshape(-1, *buffer.obs_shape))
        training, state = policy.training, {key: value.clone() for key, value in policy.state_dict().items()}
        running, batch = self._policy(obs, False), self._policy(obs, True)
        # The batch-statistics pass updated the running statistics: put them back
        policy.load_state_dict(state)
        policy.set_training_mode(training)
        advantages, actions = buffer.to_torch(buffer.advantages.reshape(-1)), buffer.to_torch(buffer.actions.reshape(-1))
        self._before = (obs, actions.long(), advantages, running, batch)

    def _on_rollout_start(self) -> None:
        if self._before is None:
            return
        obs, actions, advantages, running, batch = self._before
        self._before = None
        training = self.model.policy.training
        after = self._policy(obs, False)
        self.model.policy.set_training_mode(training)

        def surrogate(policy: Categorical) -> float:
            return (advantages * policy.log_prob(actions)).mean().item()

        self.rows.append(
            {
                "timesteps": self.num_timesteps,
                "kl_rollout_to_step": kl_divergence(running, batch).mean().item(),
                "kl_step": kl_divergence(running, after).mean().item(),
                "policy_entropy": running.entropy().mean().item(),
                "surrogate_gain": surrogate(after) - surrogate(running),
            }
        )

    def _on_training_start(self) -> None:
        self._start = self.num_timesteps

    def _on_step(self) -> bool:
        return self.max_steps is None or self.num_timesteps - self._start <= self.max_steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="SpaceInvadersNoFrameskip-v4")
    parser.add_argument("--n-timesteps", type=int, default=200_000)
    parser.add_argument("--every", type=int, default=25, help="probe every this many updates")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-envs", type=int, help="games played in parallel (default: the entry's)")
    parser.add_argument("--load", type=Path, help="a checkpoint of benchmarks/learning.py to go on from")
    parser.add_argument(
        "--budget", type=int, default=10_000_000, help="with --load: the steps of the checkpoint's run (its learning rate)"
    )
    parser.add_argument(
        "--output", type=Path, default=RESULTS_DIR / "batch_norm", help="results go to OUTPUT.csv and OUTPUT.json"
    )
    args = parser.parse_args()
    th.set_num_threads(2)

    hyperparams = SHARED_HEADS_ATARI | {"native_atari": True} | ({"n_envs": args.n_envs} if args.n_envs else {})
    probe = MismatchProbe(args.every, max_steps=args.n_timesteps)
    with tempfile.TemporaryDirectory() as log_folder:
        _, model = zoo_experiment(
            "a2c_plus", args.env, seed=args.seed, n_timesteps=args.n_timesteps, log_folder=log_folder, hyperparams=hyperparams
        )
        total = args.n_timesteps
        if args.load:
            restore(model, args.load)
            # The learning-rate schedule follows the progress through the checkpoint's whole run
            total = args.budget - model.num_timesteps
            if total < args.n_timesteps:
                raise SystemExit(
                    f"--load: the checkpoint is at {model.num_timesteps:,} of the --budget's {args.budget:,} steps"
                )
        start = model.num_timesteps
        try:
            model.learn(total, callback=probe, reset_num_timesteps=not args.load)
        finally:
            model.env.close()
    if not probe.rows:
        raise SystemExit("no update was probed: raise --n-timesteps or lower --every")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_csv(args.output.with_suffix(".csv"), FIELDS, probe.rows)
    meta = {
        "command": command_line("benchmarks/batch_norm.py", sys.argv[1:]),
        "env": args.env,
        "seed": args.seed,
        "n_envs": model.n_envs,
        "every": args.every,
        "rollout_batch_norm": model.rollout_batch_norm,
        "start_timesteps": start,
        "n_timesteps": args.n_timesteps,
        "budget": args.budget if args.load else args.n_timesteps,
        "environment": environment_info(),
    }
    write_text_atomically(args.output.with_suffix(".json"), json.dumps(meta, indent=2) + "\n")
    kl_ratio = np.median([row["kl_rollout_to_step"] for row in probe.rows]) / np.median([row["kl_step"] for row in probe.rows])
    print(f"{len(probe.rows)} updates probed; median mismatch / median step KL: {kl_ratio:.3f}")


if __name__ == "__main__":
    main()
