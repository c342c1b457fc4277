"""
Handing the cores back from the OpenMP runtime that PyTorch's CPU kernels run on.

After each parallel region, OpenMP keeps its worker threads spin-waiting for the next one (libgomp,
which PyTorch's Linux wheels use, spins for 300,000 iterations by default: milliseconds). A C++
emulator that starts right after a forward pass, on the same cores, loses part of them to those
spinning threads. ``omp_pause_resource_all`` (OpenMP 5.0) releases the idle threads; the next
parallel region starts them again, at the cost of creating a thread or two.
``SB3_A2C_PLUS_KEEP_OPENMP_THREADS=1`` in the environment turns the release off.
"""

import ctypes
import functools
import os
import sys
from collections.abc import Callable

# omp_pause_resource_t: a soft pause keeps the runtime's state, only its threads go
OMP_PAUSE_SOFT = 1
# Shared objects of the OpenMP runtimes PyTorch is built with: GNU, LLVM, Intel
RUNTIME_PREFIXES = ("libgomp", "libomp", "libiomp5")
KEEP_THREADS_VARIABLE = "SB3_A2C_PLUS_KEEP_OPENMP_THREADS"


def _loaded_runtimes() -> list[str]:
    """Paths of the OpenMP runtimes mapped into this process (Linux)."""
    with open("/proc/self/maps") as maps:
        # address, permissions, offset, device, inode, then the path, which may hold spaces
        fields = (line.rstrip("\n").split(maxsplit=5) for line in maps)
        paths = {parts[5] for parts in fields if len(parts) == 6 and parts[5].startswith("/")}
    return sorted(path for path in paths if os.path.basename(path).startswith(RUNTIME_PREFIXES))


@functools.cache
def _pause_functions() -> tuple[Callable[[int], int], ...]:
    # Looked up once: PyTorch, which loads the runtime, is imported before anything calls this.
    if not sys.platform.startswith("linux") or os.environ.get(KEEP_THREADS_VARIABLE) == "1":
        return ()
    import torch  # noqa: F401  (the runtime to pause is the one torch loaded)

    functions = []
    for path in _loaded_runtimes():
        # dlopen of a path already mapped returns that very library, not a second copy
        function = getattr(ctypes.CDLL(path), "omp_pause_resource_all", None)
        if function is not None:
            function.argtypes, function.restype = [ctypes.c_int], ctypes.c_int
            functions.append(function)
    return tuple(functions)


def release_idle_threads() -> bool:
    """
    Release the idle worker threads of the OpenMP runtimes in this process, so they stop
    spin-waiting on cores that other threads or processes are about to use. Call it outside
    PyTorch's parallel regions, from the thread that runs the forward passes. Results of later
    computations are unchanged; the next parallel region starts its threads again.

    :return: whether a runtime released its threads (False where none supports it, e.g. not on Linux,
        or where ``SB3_A2C_PLUS_KEEP_OPENMP_THREADS=1`` turns the release off)
    """
    # A list, not a generator: every runtime is paused, not only the first that succeeds
    return any([pause(OMP_PAUSE_SOFT) == 0 for pause in _pause_functions()])
