"""The grading kernel: IPython's Jupyter kernel without the debugger and input history.

A notebook being graded has no use for either, and skipping them (debugpy's
import, the history database) saves a tenth of a second per submission. The
runner starts it as ``python -m autograder.kernel -f CONNECTION_FILE``.
"""

import sys

sys.modules["debugpy"] = None  # type: ignore[assignment]  # ipykernel then runs without a debugger

from ipykernel.kernelapp import launch_new_instance  # noqa: E402

if __name__ == "__main__":
    launch_new_instance(["--HistoryManager.enabled=False", *sys.argv[1:]])
