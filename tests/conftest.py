import freezegun

pytest_plugins = ["pytester"]

# pytest's own clock (--durations, JUnit times) reads real time while a test freezes it: pytest
# reads it in _pytest.timing, which freezegun's default ignore list does not name, so a frozen
# test's duration came out as the frozen clock's (30.00 s of virtual sleeps, or the epoch).
freezegun.configure(extend_ignore_list=["_pytest.timing"])
