"""Pure conversation logic: (state, input, context) -> Turn(state, actions, effects).

No Flask, Twilio, SQLAlchemy, Redis or RQ here (a test enforces it). The host maps actions to
TwiML in one place and performs effects after its database commit.
"""
