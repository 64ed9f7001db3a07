"""Faults: the catalogue and the network between the bot and the venue, where they act."""
