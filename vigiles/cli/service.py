"""`vigiles serve` and `vigiles tokens`: the service's command line. main.py calls `register(app)`."""
from __future__ import annotations

import sqlite3
import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from .main import Severity, _db_path

tokens_app = typer.Typer(no_args_is_help=True, help="Access tokens for the service (stored hashed in the store).")


class Role(str, Enum):
    ingest = "ingest"
    viewer = "viewer"


_db = _db_path


def _connect(db: Optional[Path]) -> sqlite3.Connection:
    from ..service import tables
    path = _db(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    tables.ensure(conn)
    return conn


@tokens_app.command("add")
def tokens_add(
    name: str = typer.Argument(..., help="Who the token is for (a sensor, a framework, a person)."),
    role: Role = typer.Option(..., "--role", help="ingest (write events, ask the guard, read) or viewer (read only)."),
    db: Optional[Path] = typer.Option(None, "--db", help="SQLite store (default $VIGILES_DB or ~/.local/share/vigiles/vigiles.db)."),
) -> None:
    """Create a token and print it once; only its salted hash is kept."""
    from ..service.auth import create_token
    conn = _connect(db)
    try:
        token = create_token(conn, name, role.value)
    except ValueError as exc:
        sys.stderr.write(f"{exc}\n")
        raise typer.Exit(2)
    finally:
        conn.close()
    sys.stdout.write(token + "\n")
    sys.stderr.write("Store this token now: it is not shown again.\n")


@tokens_app.command("list")
def tokens_list(db: Optional[Path] = typer.Option(None, "--db")) -> None:
    """List tokens (ids, names, roles; never secrets)."""
    from ..service import tables
    conn = _connect(db)
    try:
        for row in tables.list_tokens(conn):
            state = "revoked" if row["revoked"] else "active"
            name = "".join(ch if ch.isprintable() else "?" for ch in row["name"])
            sys.stdout.write(f"{row['id']}\t{name}\t{row['role']}\t{state}\n")
    finally:
        conn.close()


@tokens_app.command("revoke")
def tokens_revoke(name_or_id: str = typer.Argument(...), db: Optional[Path] = typer.Option(None, "--db")) -> None:
    """Revoke a token by name or id (a running server stops accepting it within seconds)."""
    from ..service import tables
    conn = _connect(db)
    try:
        count = tables.revoke_token(conn, name_or_id)
    finally:
        conn.close()
    if not count:
        sys.stderr.write(f"no active token {name_or_id!r}\n")
        raise typer.Exit(1)
    sys.stdout.write(f"revoked {count}\n")


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8750, "--port", help="Port (0: any free port)."),
    db: Optional[Path] = typer.Option(None, "--db", help="SQLite store (default $VIGILES_DB or ~/.local/share/vigiles/vigiles.db)."),
    rules: List[Path] = typer.Option([], "--rules", help="Rule file or folder; repeatable."),
    no_builtin: bool = typer.Option(False, "--no-builtin", help="Run only the rules given with --rules."),
    deny_at: Severity = typer.Option(Severity.high, "--deny-at", help="Guard: deny at or above this severity."),
    review_at: Severity = typer.Option(Severity.medium, "--review-at", help="Guard: review at or above this severity."),
    ssl_certfile: Optional[Path] = typer.Option(None, "--ssl-certfile", help="TLS certificate (PEM)."),
    ssl_keyfile: Optional[Path] = typer.Option(None, "--ssl-keyfile", help="TLS private key (PEM)."),
    rock_upstream: Optional[str] = typer.Option(None, "--rock-upstream", help="A ROCK rocklet URL: mount the guarding gateway at /rock."),
    ledger: Optional[Path] = typer.Option(None, "--ledger", help="Append every event, finding and guard decision to this transparency log."),
    ledger_hook: Optional[str] = typer.Option(None, "--ledger-hook", help="module:factory returning a ledger hook (see docs/service.md)."),
    max_inflight: int = typer.Option(8, "--max-inflight", help="Ingest requests in progress before 429."),
    max_queue: int = typer.Option(200_000, "--max-queue", help="Events waiting for analysis before 429."),
    log_level: str = typer.Option("info", "--log-level"),
) -> None:
    """Run the service: ingest API, guard, incidents API, metrics and dashboard (one process: SQLite has one writer)."""
    try:
        import uvicorn

        from ..service.app import create_app
        from ..service.config import ServiceConfig
    except ImportError as exc:
        sys.stderr.write(f"the service needs its extra: pip install 'vigiles[service]' ({exc})\n")
        raise typer.Exit(2)
    if (ssl_certfile is None) != (ssl_keyfile is None):
        sys.stderr.write("--ssl-certfile and --ssl-keyfile go together\n")
        raise typer.Exit(2)
    if no_builtin and not rules:
        sys.stderr.write("--no-builtin needs at least one --rules PATH\n")
        raise typer.Exit(2)
    hook = None
    if ledger is not None:
        from ..sinks.ledger import ServiceLedger
        try:
            hook = ServiceLedger(ledger, _db(db))
        except (OSError, ValueError) as exc:
            sys.stderr.write(f"cannot open ledger {ledger}: {exc}\n")
            raise typer.Exit(2)
    elif ledger_hook:
        from ..service.ledger_hook import load_hook
        try:
            hook = load_hook(ledger_hook)
        except (ImportError, AttributeError, ValueError) as exc:
            sys.stderr.write(f"cannot load ledger hook: {exc}\n")
            raise typer.Exit(2)
    try:
        config = ServiceConfig(db=_db(db), rules=list(rules), builtin_rules=not no_builtin, deny_at=deny_at.value,
                               review_at=review_at.value, max_inflight=max_inflight, max_queue_events=max_queue,
                               ledger=hook, rock_upstream=rock_upstream, secure_cookies=ssl_certfile is not None)
    except ValueError as exc:
        sys.stderr.write(f"{exc}\n")
        raise typer.Exit(2)
    app = create_app(config)
    options = {}
    if ssl_certfile is not None:
        options = {"ssl_certfile": str(ssl_certfile), "ssl_keyfile": str(ssl_keyfile)}
    uvicorn.run(app, host=host, port=port, log_level=log_level, workers=1, proxy_headers=False,
                server_header=False, **options)


def register(app: typer.Typer) -> None:
    """Add `serve` and the `tokens` sub-app to the main command line."""
    app.command("serve")(serve)
    app.add_typer(tokens_app, name="tokens")


def main() -> None:
    """`python -m vigiles.cli.service ...` works before main.py registers these commands."""
    standalone = typer.Typer(no_args_is_help=True, add_completion=False, help="vigiles service commands.")
    register(standalone)
    standalone()


if __name__ == "__main__":
    main()
