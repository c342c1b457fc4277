"""
Matplotlib backend that saves every open figure as a PNG when ``plt.show()`` is called, so
RL Zoo's plotting commands work on machines without a display:

    MPLBACKEND=module://sb3_a2c_plus.zoo.png_backend rl_zoo3 plot_train -a a2c_plus -e CartPole-v1 -f logs/

Files go to ``$SB3_A2C_PLUS_PLOT_DIR`` (default: the current directory), named after the figure.
"""

import os
import re
from pathlib import Path

from matplotlib._pylab_helpers import Gcf
from matplotlib.backend_bases import FigureManagerBase as FigureManager  # noqa: F401
from matplotlib.backends.backend_agg import FigureCanvasAgg as FigureCanvas  # noqa: F401

PLOT_DIR_VARIABLE = "SB3_A2C_PLUS_PLOT_DIR"


def show(*args, **kwargs) -> None:
    """Save each open figure to ``<plot dir>/<figure label>.png`` and print the path."""
    plot_dir = Path(os.environ.get(PLOT_DIR_VARIABLE, "."))
    plot_dir.mkdir(parents=True, exist_ok=True)
    for manager in Gcf.get_all_fig_managers():
        figure = manager.canvas.figure
        name = re.sub(r"[^\w.-]+", "_", figure.get_label() or f"figure_{manager.num}").strip("_")
        path = plot_dir / f"{name}.png"
        figure.savefig(path)
        print(f"Saved {path}")
