"""clobsim: a race-condition harness for a Polymarket position manager.

Everything installs under this one import name, so installing clobsim never takes a top-level
name that a user's own project may use (a user's `core/` or `sim/` keeps working beside it). The
checkout keeps its top-level folders core/ and sim/; clobsim/core and clobsim/sim link to them.
The position manager is `clobsim.core`, the simulator `clobsim.sim` (`from clobsim import sim;
sim.run(...)`).
"""
