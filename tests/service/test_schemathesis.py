"""schemathesis against the served OpenAPI spec: no request it generates may cause a server error.

Bounded (VIGILES_ST_EXAMPLES, default 25 examples per operation). The same run by hand:

    st run http://127.0.0.1:PORT/openapi.json -H "Authorization: Bearer $TOKEN" \
        --checks not_a_server_error --max-examples 25
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vigiles.service.config import ServiceConfig

from .server import ThreadServer, make_token


def test_openapi_fuzzing_finds_no_server_error(tmp_path):
    st = shutil.which("st") or str(Path(sys.executable).with_name("st"))
    if not Path(st).exists():
        pytest.skip("schemathesis is not installed (pip install schemathesis)")
    db = tmp_path / "v.db"
    token = make_token(db, "fuzzer", "ingest")
    examples = os.environ.get("VIGILES_ST_EXAMPLES", "25")
    with ThreadServer(ServiceConfig(db=db)) as server:
        result = subprocess.run(
            [st, "run", f"{server.url}/openapi.json", "-H", f"Authorization: Bearer {token}",
             "--checks", "not_a_server_error", "--max-examples", examples, "--seed", "1", "--no-color"],
            capture_output=True, text=True, timeout=600, cwd=tmp_path)
        errors = server.service.metrics.analysis_errors.get()
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert errors == 0
