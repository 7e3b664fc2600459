"""Shared fixtures: real witness servers on 127.0.0.1, and a fresh venv holding only `cryptography`."""
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from vigiles.ledger.note import ALG_COSIGNATURE_V1, generate_signer
from vigiles.ledger.witness import Witness, make_server


@pytest.fixture
def start_witness(tmp_path):
    """start_witness(log_verifiers, name=...) -> (url, signer, witness); servers stop after the test."""
    servers = []

    def start(logs, name="witness.example.org/w1", state=None, signer=None):
        signer = signer or generate_signer(name, ALG_COSIGNATURE_V1)
        witness = Witness(state or tmp_path / f"witness-{len(servers)}", signer, logs)
        server = make_server(witness, "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", signer, witness

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def crypto_only_python(tmp_path_factory):
    """The python of a new venv (no pip, no system site-packages) given only `cryptography` and
    its declared dependency cffi (with pycparser): what a third party verifying a bundle has."""
    import cffi
    import cryptography
    import pycparser
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    source = Path(cryptography.__file__).parent.parent
    wanted = [Path(cryptography.__file__).parent, Path(cffi.__file__).parent, Path(pycparser.__file__).parent]
    wanted += list(source.glob("_cffi_backend*.so"))
    wanted += [p for p in source.glob("*.dist-info") if p.name.split("-")[0].lower() in ("cryptography", "cffi", "pycparser")]
    for path in wanted:
        os.symlink(path, site / path.name)
    probe = subprocess.run([str(python), "-c", "import cryptography, importlib.util as u;"
                            "print([m for m in ('vigiles', 'rfc8785', 'typer', 'pytest') if u.find_spec(m)])"],
                           capture_output=True, text=True, cwd=venv, env={"PATH": os.environ.get("PATH", "")})
    assert probe.returncode == 0 and probe.stdout.strip() == "[]", probe.stdout + probe.stderr
    return python
