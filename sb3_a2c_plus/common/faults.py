"""What training does when its process is told to stop, or a game worker dies."""

import contextlib
import signal
import threading
from collections.abc import Iterator

from stable_baselines3.common.vec_env import SubprocVecEnv, VecEnv

# What a SubprocVecEnv raises when a worker's end of the pipe is gone
PIPE_ERRORS = (EOFError, BrokenPipeError, ConnectionResetError)


class EnvWorkerError(RuntimeError):
    """A game worker process of a ``SubprocVecEnv`` died during training."""


class _Sigterm:
    """Where SIGTERM may interrupt: the handler's state (signal handlers are per process, in the main thread)."""

    in_env_step = False  # inside a step of the training env: the interrupt waits until it returns
    pending = False


@contextlib.contextmanager
def sigterm_as_keyboard_interrupt() -> Iterator[None]:
    """
    Inside, SIGTERM (``kill``, a scheduler stopping a job) raises ``KeyboardInterrupt`` as Ctrl-C does,
    so RL Zoo saves the model as it does for Ctrl-C; within :func:`env_step_uninterrupted` it is raised
    when the step returns. Only in the main thread, and only where SIGTERM still has its default
    action: a handler of the user's own stays in place.
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return

    def stop(signum: int, frame: object) -> None:
        if _Sigterm.in_env_step:
            _Sigterm.pending = True
        else:
            raise KeyboardInterrupt("training stopped by SIGTERM")

    signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _Sigterm.pending = False


@contextlib.contextmanager
def env_step_uninterrupted() -> Iterator[None]:
    """
    A step of the training env that SIGTERM does not cut in two: a ``SubprocVecEnv`` interrupted between
    two workers' replies can never be closed (``close()`` waits again for the replies already read), and
    RL Zoo closes it after an interrupt. The ``KeyboardInterrupt`` comes as the step returns.
    """
    _Sigterm.in_env_step = True
    try:
        yield
    finally:
        _Sigterm.in_env_step = False
    if _Sigterm.pending:
        _Sigterm.pending = False
        raise KeyboardInterrupt("training stopped by SIGTERM")


def dead_worker_error(env: VecEnv) -> EnvWorkerError | None:
    """
    After a pipe error, which worker of ``env``'s ``SubprocVecEnv`` died and how, as an error to raise
    (None if ``env`` has no such worker). The surviving workers are stopped and the ``SubprocVecEnv``
    marked closed: it cannot step any more, and a later ``close()`` (RL Zoo's) must not wait on the dead one.
    """
    venv = env.unwrapped
    if not isinstance(venv, SubprocVecEnv):
        return None
    dead = []
    for index, process in enumerate(venv.processes):
        process.join(timeout=1.0)  # a worker that has just crashed may still be exiting
        if process.exitcode is not None:
            if process.exitcode < 0:
                how = f"killed by {signal.Signals(-process.exitcode).name}"
            else:
                how = f"exited with code {process.exitcode} (an exception in its environment: see its traceback on stderr)"
            dead.append(f"env {index} (pid {process.pid}) {how}")
    if not dead:
        return None
    for process in venv.processes:
        if process.exitcode is None:
            process.terminate()
            process.join()
    venv.closed = True
    return EnvWorkerError(
        f"A SubprocVecEnv game worker died during training: {'; '.join(dead)}. Training stopped there; "
        "the models and logs saved before are intact."
    )
