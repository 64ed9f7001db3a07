"""The virtual-time kernel: tiny tasks record (name, env.now); the whole trace is asserted."""

import simpy

from clobsim.sim.runner.kernel import Kernel, SimClock


def make():
    env = simpy.Environment(initial_time=1000.0)
    kernel = Kernel(env)
    return env, kernel, SimClock(kernel), []


def test_sleeping_tasks_interleave_on_virtual_time_in_a_fixed_order():
    env, kernel, clock, trace = make()

    def task(name, period):
        def run():
            for _ in range(3):
                trace.append((name, clock.now()))
                clock.sleep(period)

        return run

    kernel.spawn("a", task("a", 5))
    kernel.spawn("b", task("b", 3))
    env.run(until=1020)
    assert trace == [("a", 1000.0), ("b", 1000.0), ("b", 1003.0), ("a", 1005.0), ("b", 1006.0), ("a", 1010.0)]


def test_a_task_blocked_on_an_exchange_answer_lets_market_events_happen_meanwhile():
    env, kernel, clock, trace = make()

    def venue_answers(done):
        yield env.timeout(0.2)  # request leg
        trace.append(("venue applies", env.now))
        yield env.timeout(0.3)  # response leg
        done.succeed("live")

    def market():
        yield env.timeout(0.4)
        trace.append(("market fill", env.now))

    def bot():
        done = env.event()
        env.process(venue_answers(done))
        answer = kernel.wait(done)
        trace.append(("bot got " + answer, clock.now()))

    env.process(market())
    kernel.spawn("bot", bot)
    env.run()
    assert trace == [("venue applies", 1000.2), ("market fill", 1000.4), ("bot got live", 1000.5)]


def test_a_failed_event_raises_inside_the_task():
    env, kernel, clock, trace = make()

    def bot():
        event = env.event()
        event.fail(TimeoutError("no answer"))
        try:
            kernel.wait(event)
        except TimeoutError as exc:
            trace.append((str(exc), clock.now()))

    kernel.spawn("bot", bot)
    env.run()
    assert trace == [("no answer", 1000.0)]


def test_a_bug_in_a_task_is_recorded_not_swallowed_and_other_tasks_go_on():
    env, kernel, clock, trace = make()

    def buggy():
        clock.sleep(1)
        raise KeyError("oops")

    def steady():
        for _ in range(3):
            clock.sleep(1)
            trace.append(("steady", clock.now()))

    bad = kernel.spawn("buggy", buggy)
    kernel.spawn("steady", steady)
    env.run()
    assert bad.error_text == "KeyError: 'oops'"
    assert trace == [("steady", 1001.0), ("steady", 1002.0), ("steady", 1003.0)]


def test_killing_a_task_stops_it_where_it_stands_but_its_request_still_lands():
    env, kernel, clock, trace = make()

    def venue(done):
        yield env.timeout(2)
        trace.append(("venue applies", env.now))
        done.succeed("ok")

    def bot():
        trace.append(("bot sends", clock.now()))
        done = env.event()
        env.process(venue(done))
        kernel.wait(done)
        trace.append(("bot resumes", clock.now()))  # never: the bot died at 1001

    task = kernel.spawn("bot", bot)

    def crash():
        yield env.timeout(1)
        kernel.kill(task)
        trace.append(("crash", env.now))

    env.process(crash())
    env.run()
    assert trace == [("bot sends", 1000.0), ("crash", 1001.0), ("venue applies", 1002.0)]
    assert task.finished and task.killed and task.error is None


def test_closing_the_kernel_unwinds_suspended_tasks_so_they_can_be_collected():
    import gc
    import weakref

    env, kernel, clock, trace = make()

    class Holder:  # stands for the bot: reachable only from the task's frames
        pass

    holder = Holder()
    held = weakref.ref(holder)

    def task(owner=holder):
        try:
            while True:
                clock.sleep(5)
        finally:
            trace.append(("unwound", clock.now()))

    del holder
    spawned = kernel.spawn("forever", task)
    env.run(until=1012)
    kernel.close()
    assert trace == [("unwound", 1012.0)]  # unwound at the end, where it lay suspended
    assert spawned.finished and spawned.glet.dead and spawned.waiting is None
    del spawned, task
    gc.collect()
    assert held() is None
