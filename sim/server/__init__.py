"""Server mode: the simulated CLOB on 127.0.0.1 for bots in any language (`clobsim serve`,
`clobsim run --bot-cmd`): REST through the same gateway and faults as an in-process run, and
Polymarket's WebSocket channels. session.py plays the run on wall time, channels.py holds the
WebSocket channels, app.py the aiohttp server, botproc.py a bot process run against it."""
