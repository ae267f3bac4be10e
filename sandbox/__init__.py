"""Local stand-ins for the one thing not reachable here: Twilio's REST API."""
