"""Collection rules for nbval over this folder.

run_all.py executes each notebook into a hidden temp file beside it
(.NN_name.in.PID.XXXXXXXX.ipynb); one left by a killed run is not a notebook to test.
(Here, not at the repository root: a root conftest.py would shadow tests/conftest.py for
processes that import `conftest` by name, such as Dask workers unpickling a test's helpers.)
"""

collect_ignore_glob = [".*"]
