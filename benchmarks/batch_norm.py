"""
Does BatchNorm make A2CPlus's gradient step differentiate another policy than the one that acted?
With ``rollout_batch_norm="running"`` the rollouts normalise with BatchNorm's running statistics and
the gradient step with the statistics of its own batch. This trains the zoo's ``atari`` entry on the
native backend and, every ``--every`` updates, measures on that update's rollout:

- ``kl_rollout_to_step``: the mean KL divergence from the policy that collected it (running statistics)
  to the policy the gradient step differentiates (batch statistics): the mismatch;
- ``kl_step``: the same from the acting policy before the step to the acting policy after it: how far
  one update moves it, the scale the mismatch is judged against;
- ``surrogate_gain``: the change of the acting policy's surrogate, the mean over the rollout of
  advantage times log-probability of the action taken; above 0 where the step improved it.

    python benchmarks/batch_norm.py --n-timesteps 200000

The probe restores BatchNorm's running statistics after its batch-statistics forward pass, so the run
trains as it would without it (tests/test_benchmarks.py checks the weights). Writes
docs/benchmarks/batch_norm.csv (one row per probe) and .json (command and machine), which the report shows.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch as th
from stable_baselines3.common.callbacks import BaseCallback

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    RESULTS_DIR,
    command_line,
    environment_info,
    write_csv,
    write_text_atomically,
    zoo_experiment,
)

FIELDS = ["timesteps", "kl_rollout_to_step", "kl_step", "policy_entropy", "surrogate_gain"]


def _kl(p_logits: th.Tensor, q_logits: th.Tensor) -> float:
    """Mean over the rows of KL(p || q) between categorical distributions given by their logits."""
    log_p, log_q = th.log_softmax(p_logits, -1), th.log_softmax(q_logits, -1)
    return (log_p.exp() * (log_p - log_q)).sum(-1).mean().item()


class MismatchProbe(BaseCallback):
    """
    Around every ``every``-th update: the action logits of the rollout's observations with the running and
    with the batch statistics before the step (``on_rollout_end``, just before ``train``), and with the running
    statistics after it (the next ``on_rollout_start``).
    """

    def __init__(self, every: int) -> None:
        super().__init__()
        self.every = every
        self.rows: list[dict[str, float]] = []
        self._before: tuple[th.Tensor, th.Tensor, th.Tensor, th.Tensor, th.Tensor] | None = None
        self._rollouts = 0

    def _logits(self, obs: th.Tensor, batch_statistics: bool) -> th.Tensor:
        policy = self.model.policy
        policy.set_training_mode(batch_statistics)
        with th.no_grad():
            return policy.get_distribution(obs).distribution.logits

    def _on_rollout_end(self) -> None:
        self._rollouts += 1
        if (self._rollouts - 1) % self.every:
            return
        buffer, policy = self.model.rollout_buffer, self.model.policy
        obs = buffer.to_torch(buffer.observations.reshape(-1, *buffer.obs_shape))
        training, state = policy.training, {key: value.clone() for key, value in policy.state_dict().items()}
        running, batch = self._logits(obs, False), self._logits(obs, True)
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
        after = self._logits(obs, False)
        self.model.policy.set_training_mode(training)

        def surrogate(logits: th.Tensor) -> float:
            return (advantages * th.log_softmax(logits, -1).gather(1, actions[:, None]).squeeze(1)).mean().item()

        log_p = th.log_softmax(running, -1)
        self.rows.append(
            {
                "timesteps": self.num_timesteps,
                "kl_rollout_to_step": _kl(running, batch),
                "kl_step": _kl(running, after),
                "policy_entropy": -(log_p.exp() * log_p).sum(-1).mean().item(),
                "surrogate_gain": surrogate(after) - surrogate(running),
            }
        )

    def _on_step(self) -> bool:
        return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="SpaceInvadersNoFrameskip-v4")
    parser.add_argument("--n-timesteps", type=int, default=200_000)
    parser.add_argument("--every", type=int, default=25, help="probe every this many updates")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-envs", type=int, help="games played in parallel (default: the entry's)")
    parser.add_argument("--output-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args()
    th.set_num_threads(2)

    hyperparams = {"native_atari": True} | ({"n_envs": args.n_envs} if args.n_envs else {})
    probe = MismatchProbe(args.every)
    with tempfile.TemporaryDirectory() as log_folder:
        _, model = zoo_experiment(
            "a2c_plus", args.env, seed=args.seed, n_timesteps=args.n_timesteps, log_folder=log_folder, hyperparams=hyperparams
        )
        try:
            model.learn(args.n_timesteps, callback=probe)
        finally:
            model.env.close()
    if not probe.rows:
        raise SystemExit("no update was probed: raise --n-timesteps or lower --every")
    args.output_dir.mkdir(parents=True, exist_ok=True)
    write_csv(args.output_dir / "batch_norm.csv", FIELDS, probe.rows)
    meta = {
        "command": command_line("benchmarks/batch_norm.py", sys.argv[1:]),
        "env": args.env,
        "seed": args.seed,
        "n_envs": model.n_envs,
        "every": args.every,
        "rollout_batch_norm": model.rollout_batch_norm,
        "environment": environment_info(),
    }
    write_text_atomically(args.output_dir / "batch_norm.json", json.dumps(meta, indent=2) + "\n")
    kl_ratio = np.median([row["kl_rollout_to_step"] for row in probe.rows]) / np.median([row["kl_step"] for row in probe.rows])
    print(f"{len(probe.rows)} updates probed; median mismatch / median step KL: {kl_ratio:.3f}")


if __name__ == "__main__":
    main()
