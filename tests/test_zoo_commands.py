"""RL Zoo's own commands with --algo a2c_plus, on small budgets."""

import re
from pathlib import Path

import cv2
import pytest
import yaml

from tests.zoo import require_ffmpeg, run, run_script

CARTPOLE = ["--algo", "a2c_plus", "--env", "CartPole-v1"]
ATARI = ["--algo", "a2c_plus", "--env", "SpaceInvadersNoFrameskip-v4"]


def _decoded_frames(video: Path) -> int:
    capture = cv2.VideoCapture(str(video))
    frames = 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        assert frame.size > 0
        frames += 1
    capture.release()
    return frames


@pytest.fixture(scope="module")
def cartpole_run(tmp_path_factory) -> Path:
    """One zoo training run on CartPole with checkpoints, shared by the tests below."""
    workdir = tmp_path_factory.mktemp("cartpole")
    output = run_script("rl_zoo3", ["train", *CARTPOLE, "-n", "16000", "--save-freq", "8000", "--seed", "1"], workdir)
    assert "Loading hyperparameters from:" in output and "a2c_plus.yml" in output
    return workdir


def test_train_uses_shipped_hyperparameters_and_saves_checkpoints(cartpole_run):
    run_dir = cartpole_run / "logs" / "a2c_plus" / "CartPole-v1_1"
    assert (run_dir / "CartPole-v1.zip").is_file()
    assert {path.name for path in run_dir.glob("rl_model_*_steps.zip")} == {
        "rl_model_8000_steps.zip",
        "rl_model_16000_steps.zip",
    }
    config = dict(yaml.load((run_dir / "CartPole-v1" / "config.yml").read_text(), Loader=yaml.UnsafeLoader))
    shipped = yaml.safe_load((Path(__file__).parent.parent / "hyperparams" / "a2c_plus.yml").read_text())["CartPole-v1"]
    assert config["learning_rate"] == shipped["learning_rate"] and config["n_envs"] == shipped["n_envs"]


def test_enjoy(cartpole_run):
    output = run(["-m", "rl_zoo3.enjoy", *CARTPOLE, "-f", "logs/", "--no-render", "-n", "600"], cartpole_run)
    mean_reward = float(re.search(r"Mean reward: ([\d.]+)", output).group(1))
    assert mean_reward > 0


def test_continue_training(cartpole_run):
    model = "logs/a2c_plus/CartPole-v1_1/CartPole-v1.zip"
    output = run(["-m", "rl_zoo3.train", *CARTPOLE, "-i", model, "-n", "2000", "--eval-freq", "-1"], cartpole_run)
    assert "Loading pretrained agent" in output
    assert (cartpole_run / "logs" / "a2c_plus" / "CartPole-v1_2" / "CartPole-v1.zip").is_file()


def test_plot_train_writes_png(cartpole_run):
    env = {"MPLBACKEND": "module://sb3_a2c_plus.zoo.png_backend", "SB3_A2C_PLUS_PLOT_DIR": "plots"}
    run_script("rl_zoo3", ["plot_train", "-a", "a2c_plus", "-e", "CartPole-v1", "-f", "logs/", "-w", "10"], cartpole_run, env)
    png = cartpole_run / "plots" / "Training_Episodic_Reward.png"
    image = cv2.imread(str(png))
    assert image is not None and image.shape[0] > 100 and image.shape[1] > 100


def test_explicit_conf_file_wins(tmp_path):
    conf = tmp_path / "mine.yml"
    conf.write_text("CartPole-v1:\n  n_envs: 2\n  n_timesteps: 100\n  policy: 'MlpPolicy'\n  n_steps: 7\n")
    output = run(["-m", "rl_zoo3.train", *CARTPOLE, "-conf", str(conf), "--eval-freq", "-1"], tmp_path)
    assert f"Loading hyperparameters from: {conf}" in output
    assert "Using 2 environments" in output


def test_atari_on_subprocesses_then_record(tmp_path):
    train_args = ["--vec-env", "subproc", "-n", "1200", "--eval-freq", "-1", "--save-freq", "600", "--hyperparams", "n_envs:4"]
    output = run(["-m", "rl_zoo3.train", *ATARI, *train_args], tmp_path)
    assert "Stacking 4 frames" in output
    run_dir = tmp_path / "logs" / "a2c_plus" / "SpaceInvadersNoFrameskip-v4_1"
    assert len(list(run_dir.glob("*.monitor.csv"))) == 4

    run(["-m", "rl_zoo3.record_video", *ATARI, "-f", "logs/", "-n", "300"], tmp_path)
    (video,) = (run_dir / "videos").glob("final-model-*.mp4")
    assert _decoded_frames(video) >= 300

    require_ffmpeg()
    run(["-m", "rl_zoo3.record_training", *ATARI, "-f", "logs/", "-n", "100"], tmp_path)
    assert _decoded_frames(run_dir / "videos" / "training.mp4") >= 3 * 100


@pytest.mark.parametrize("algo", ["a2c_plus", "a2c"])
def test_native_atari_opt_in(tmp_path, algo):
    args = ["--algo", algo, "--env", "SpaceInvadersNoFrameskip-v4", "-n", "1000", "--eval-freq", "-1"]
    output = run(["-m", "rl_zoo3.train", *args, "--hyperparams", "native_atari:True", "n_envs:4"], tmp_path)
    assert "Using ale_py's native vectorised Atari environment for 4 games" in output
    run_dir = tmp_path / "logs" / algo / "SpaceInvadersNoFrameskip-v4_1"
    assert len(list(run_dir.glob("*.monitor.csv"))) == 4
    # The model plays in the standard pipeline too: both give the same observations
    enjoy = ["--algo", algo, "--env", "SpaceInvadersNoFrameskip-v4", "-f", "logs/", "--no-render", "-n", "200"]
    run(["-m", "rl_zoo3.enjoy", *enjoy], tmp_path)


def test_native_atari_refuses_other_games(tmp_path):
    with pytest.raises(AssertionError, match="native_atari: the native backend is for Atari games, not CartPole-v1"):
        run(["-m", "rl_zoo3.train", *CARTPOLE, "--hyperparams", "native_atari:True", "-n", "100"], tmp_path)
