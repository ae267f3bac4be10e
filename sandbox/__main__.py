"""`python -m sandbox [serve]`: the sandbox phone (Twilio stand-in, browser phone, JSON API) on SANDBOX_PORT.

Environment: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN (else the launcher's local token), TWILIO_NUMBER,
PUBLIC_BASE_URL, DATABASE_URL (the registry for the person picker) as the app reads them;
GRIDLINE_URL (where the app listens; default http://127.0.0.1:$PORT, PORT 5000), SANDBOX_PORT (5001),
SANDBOX_RING_SECONDS (30: how long a call-back rings before no-answer), SANDBOX_INBOUND_STATUS_CALLBACK
(unset: like a number with no status callback configured at Twilio).
`python -m sandbox <command> ...` runs the CLI (`python -m sandbox.cli --help`).
"""
from __future__ import annotations

import sys

if len(sys.argv) > 1 and sys.argv[1] != "serve":
    from sandbox.cli import main as cli_main

    raise SystemExit(cli_main(sys.argv[1:]))

from sandbox.server import main  # noqa: E402

raise SystemExit(main())
