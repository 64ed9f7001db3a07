import os
import sys

pytest_plugins = ["pytester"]

# An xdist worker (python -c) has '' on sys.path: "the current directory", resolved at each
# import. A test that chdirs and then starts worker processes (sim.runner.pool's fork server
# inherits sys.path) would import the installed copy of clobsim instead of the tree under test.
sys.path[:] = [os.path.abspath(entry) if entry == "" else entry for entry in sys.path]
