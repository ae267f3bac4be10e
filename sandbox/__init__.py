"""Local stand-ins for the one thing not reachable here: Twilio.

twilio_api.py  the Twilio REST subset the app uses (calls, messages, recordings), for tests and trials
server.py      the sandbox phone (`python -m sandbox`): that REST subset plus a browser phone at /phone,
               its JSON API (api.py) and the CLI (`python -m sandbox.cli`), playing Twilio's side of
               every call and text with signed webhooks to the app (switchboard.py, callflow.py, phone.py)
"""
