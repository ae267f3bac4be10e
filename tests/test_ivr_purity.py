"""ivr_flows stays pure: no I/O library may be imported by it, directly or indirectly."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

FORBIDDEN = ("flask", "twilio", "sqlalchemy", "redis", "rq")
FLOWS = Path(__file__).resolve().parent.parent / "ivr_flows"


def test_no_module_in_ivr_flows_imports_an_io_library() -> None:
    """Every import statement in ivr_flows/ names only pure modules."""
    offenders = []
    for path in FLOWS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_importing_the_flows_loads_no_io_library() -> None:
    """Importing every flow in a fresh interpreter pulls in none of the I/O libraries."""
    modules = sorted(f"ivr_flows.{p.stem}" for p in FLOWS.glob("*.py") if p.stem != "__init__")
    assert "ivr_flows.outbound_flows" in modules
    code = (
        f"import sys, importlib; [importlib.import_module(m) for m in {modules!r}];"
        f"print([m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=FLOWS.parent).stdout.strip()
    assert out == "[]"
