"""Risk-based ETAs: the chance that each open ticket is resolved within its SLA, simulated over
the engineers' queues. Pure NumPy, no database and no bot; `bot.services.risk` feeds it."""
