"""The simulated CLOB: order books, the venue, market listings, order ids and the gateway.

It knows nothing of virtual time (simpy), faults, runs, checks or tools: it is handed a clock
and answers requests. The gateway is the one dispatch point both ways in (sim.clients) reach.
"""
