"""The ways in to the simulated CLOB: the wire transport the real clients talk HTTP over, and
the fast look-alike client that calls the gateway without HTTP or signing.
"""
