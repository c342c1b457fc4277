"""A2CPlus.save never leaves a truncated model: killed mid-save, on a full disk, without permission."""

import errno
import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest
import torch as th

from sb3_a2c_plus import A2CPlus

KILLS = 12
# Saves a large model (about 13 MB with its optimiser state) over and over, each time with its first weight set
# to the number of the save, and says on stdout when each save is complete
SAVER = textwrap.dedent(
    """
    import sys
    import torch as th
    from sb3_a2c_plus import A2CPlus

    model = A2CPlus("MlpPolicy", "CartPole-v1", policy_kwargs=dict(net_arch=[1024, 1024]), seed=0)
    first = next(model.policy.parameters())
    for count in range(1, 1_000_000):
        with th.no_grad():
            first.view(-1)[0] = count
        model.save(sys.argv[1])
        print(count, flush=True)
    """
)


def _first_weight(path) -> float:
    return next(A2CPlus.load(path).policy.parameters()).view(-1)[0].item()


def test_a_process_killed_mid_save_leaves_a_whole_model(tmp_path):
    path = tmp_path / "model.zip"
    rng = random.Random(0)
    mid_save = 0
    for _ in range(KILLS):
        saver = subprocess.Popen([sys.executable, "-c", SAVER, str(path)], stdout=subprocess.PIPE, text=True)
        completed = int(saver.stdout.readline())  # the first save is whole: from now on a kill can land anywhere
        # Each save takes a good part of a second here: kill somewhere in the next few
        time.sleep(rng.uniform(0.0, 0.5))
        os.kill(saver.pid, signal.SIGKILL)
        saver.wait()
        completed = max([completed, *map(int, saver.stdout.read().split())])
        leftovers = list(tmp_path.glob(".model.zip.*.partial.zip"))
        mid_save += bool(leftovers)  # killed while a save was being written
        # The file is one complete save: the last one reported, or the next one (done, not yet reported)
        assert _first_weight(path) in (completed, completed + 1)
        for leftover in leftovers:
            leftover.unlink()
    assert mid_save >= KILLS // 2, f"only {mid_save} of {KILLS} kills landed inside a save"


def test_a_failed_save_names_the_path_and_keeps_the_previous_model(tmp_path, monkeypatch):
    model = A2CPlus("MlpPolicy", "CartPole-v1", seed=0)
    model.save(tmp_path / "model")
    previous = (tmp_path / "model.zip").read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(th, "save", disk_full)  # SB3 writes each entry of the archive with torch.save
    with pytest.raises(OSError, match=f"could not save the model to {tmp_path / 'model.zip'}: No space left on device"):
        model.save(tmp_path / "model")
    assert (tmp_path / "model.zip").read_bytes() == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.zip"]


def test_a_save_into_a_folder_without_write_permission_names_the_path(tmp_path, monkeypatch):
    def no_permission(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    # Where a read-only folder first refuses (a chmod would not stop root, as CI runs)
    monkeypatch.setattr(tempfile, "mkstemp", no_permission)
    with pytest.raises(PermissionError, match=f"could not save the model to {tmp_path / 'model.zip'}: Permission denied"):
        A2CPlus("MlpPolicy", "CartPole-v1").save(tmp_path / "model.zip")
    assert not list(tmp_path.iterdir())


def test_a_saved_file_has_the_permissions_of_a_plain_save(tmp_path):
    A2CPlus("MlpPolicy", "CartPole-v1").save(tmp_path / "model")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "model.zip").stat().st_mode & 0o777 == 0o666 & ~umask
