"""Collection rules for every pytest run in this repository (unit tests and nbval alike)."""

# run_all.py executes each notebook into a hidden temp file beside it
# (.NN_name.in.PID.XXXXXXXX.ipynb); one left by a killed run is not a notebook to test.
collect_ignore_glob = ["notebooks/.*"]
