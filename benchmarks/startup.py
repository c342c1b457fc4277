"""
What the RL Zoo start-up hook adds to every Python start: the import of ``_sb3_a2c_plus_zoo_hook``
(``sb3_a2c_plus_zoo.pth`` runs it, then ``install()``), read from ``python -X importtime``, next to
the whole ``python -c pass``. Also checks that nothing heavy is imported at start-up.

    python benchmarks/startup.py --runs 30
"""

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RESULTS_DIR, command_line, environment_info, write_text_atomically  # noqa: E402

HEAVY = ("torch", "numpy", "stable_baselines3", "sb3_a2c_plus", "rl_zoo3", "optuna")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "startup.json")
    args = parser.parse_args()

    hook_us, total_ms = [], []
    for _ in range(args.runs):
        trace = subprocess.run([sys.executable, "-X", "importtime", "-c", "pass"], capture_output=True, text=True).stderr
        match = re.search(r"import time:\s+\d+ \|\s+(\d+) \|\s+_sb3_a2c_plus_zoo_hook", trace)
        if match is None:
            raise SystemExit("the hook was not imported at start-up: is sb3_a2c_plus installed?")
        hook_us.append(int(match.group(1)))
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        total_ms.append((time.perf_counter() - start) * 1000)
    loaded = subprocess.run(
        [sys.executable, "-c", f"import sys; print([m for m in {HEAVY!r} if m in sys.modules])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    result = {
        "command": command_line("benchmarks/startup.py", sys.argv[1:]),
        "runs": args.runs,
        "hook_import_ms_median": statistics.median(hook_us) / 1000,
        "hook_import_ms_max": max(hook_us) / 1000,
        "python_c_pass_ms_median": statistics.median(total_ms),
        "heavy_modules_loaded_at_startup": loaded,
        "environment": environment_info(),
    }
    write_text_atomically(args.output, json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
