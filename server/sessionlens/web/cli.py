"""The ``serve``, ``admin``, ``audit``, ``push`` and ``views`` commands (registered by ``sessionlens.cli``)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _json(obj: Any) -> None:
    _out(json.dumps(obj, indent=2, default=str, ensure_ascii=False))


def _app(args):
    from sessionlens.services.app import App
    from sessionlens.services.settings import Settings

    kw: dict[str, Any] = {}
    if getattr(args, "home", None):
        kw["storePath"] = args.home
    if getattr(args, "no_home_logs", False) or getattr(args, "team", False):
        kw["includeHomeLogs"] = False
    return App(Settings.model_validate(kw))


class Fail(Exception):
    pass


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# ---------------------------------------------------------------------- serve
def cmd_serve(args) -> int:
    import asyncio
    import signal

    from sessionlens.web.security import WebConfig
    from sessionlens.web.server import start

    if not args.team and not _loopback(args.host):
        raise Fail("the local UI binds loopback only; use --team (with accounts) to serve other machines")
    app = _app(args)
    hub = None
    if args.team:
        from sessionlens.services.hub import Hub

        hub = Hub(app)
        if hub.store.count_users("admin") == 0:
            sys.stderr.write("sessionlens: no admin yet: run `sessionlens admin create-user NAME --role admin` first\n")
    ssl_ctx = None
    if args.tls_cert:
        import ssl

        ssl_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_ctx.load_cert_chain(args.tls_cert, args.tls_key)
    cfg = WebConfig(
        host=args.host,
        port=args.port,
        team=args.team,
        tls=bool(ssl_ctx) or args.behind_tls_proxy,
        trust_proxy=args.trust_proxy,
        allowed_hosts={h.lower() for h in args.allowed_host or []},
        index_on_start=not args.no_index,
    )

    async def main() -> None:
        runner, port = await start(app, cfg, hub, ssl_context=ssl_ctx)
        scheme = "https" if ssl_ctx else "http"
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
        url = f"{scheme}://{host if ':' not in host else '[' + host + ']'}:{port}/"
        if hub is None:
            url += f"?token={cfg.token}"
        if args.json:
            _out(json.dumps({"url": url, "port": port, "team": bool(hub)}))
        else:
            _out(f"sessionlens {'team hub' if hub else 'web UI'} on {url}")
            if hub is None:
                _out("  (the token in the URL is this run's access key: open that URL; Ctrl-C stops)")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):
                pass
        await stop.wait()
        await runner.cleanup()

    asyncio.run(main())
    return 0


# ---------------------------------------------------------------------- admin
def _password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    env = os.environ.get("SESSIONLENS_PASSWORD")
    if env:
        return env
    if not sys.stdin.isatty():
        raise Fail("give the password with --password-stdin or $SESSIONLENS_PASSWORD")
    import getpass

    a = getpass.getpass("password: ")
    if a != getpass.getpass("again: "):
        raise Fail("the passwords differ")
    return a


def cmd_admin(args) -> int:
    import getpass

    from sessionlens.services.hub import Hub, HubError

    hub = Hub(_app(args))
    actor = f"cli:{getpass.getuser()}"
    try:
        a = args.action
        if a == "create-user":
            first = hub.store.count_users() == 0
            role = args.role or ("admin" if first else "member")
            u = hub.create_user(args.username, _password(args), role, args.project or [])
            hub.audit(actor, "user.create", target=u.username, source="cli", role=role, project=args.project or None)
            _out(f"created {role} {u.username}" + (f" in {', '.join(args.project)}" if args.project else ""))
        elif a == "users":
            users = hub.store.users()
            if args.json:
                _json([m.model_dump() for m in users])
                users = []
            for m in users:
                _out(f"{m.username:<24} {m.role:<7} {'disabled ' if m.disabled else ''}{', '.join(m.projects) or '-'}")
        elif a == "set-role":
            u = hub.user_by_name(args.username)
            hub.set_role(u.id, args.role_value)
            hub.audit(actor, "role.change", target=u.username, source="cli", **{"from": u.role, "to": args.role_value})
            _out(f"{u.username}: {u.role} -> {args.role_value}")
        elif a in ("add-member", "remove-member"):
            u = hub.user_by_name(args.username)
            if a == "add-member":
                hub.add_member(u.id, args.project_name)
            else:
                hub.store.remove_member(u.id, args.project_name)
            hub.audit(
                actor,
                "member.change",
                target=u.username,
                source="cli",
                **{"added" if a == "add-member" else "removed": args.project_name},
            )
            _out(f"{u.username}: {'+' if a == 'add-member' else '-'}{args.project_name}")
        elif a in ("disable", "enable"):
            u = hub.user_by_name(args.username)
            hub.set_disabled(u.id, a == "disable")
            hub.audit(actor, "user.disable", target=u.username, source="cli", disabled=a == "disable")
            _out(f"{u.username}: {a}d")
        elif a == "set-password":
            u = hub.user_by_name(args.username)
            hub.set_password(u.id, _password(args))
            hub.audit(actor, "user.password", target=u.username, source="cli")
            _out(f"{u.username}: password changed")
        elif a == "create-key":
            u = hub.user_by_name(args.username)
            raw, rec = hub.create_key(
                u,
                args.name,
                [s.strip() for s in args.scopes.split(",") if s.strip()],
                project=args.key_project,
                expires_days=args.expires_days,
            )
            hub.audit(actor, "key.create", target=f"slk_{rec.prefix}", source="cli", owner=u.username, scopes=rec.scopes)
            if args.json:
                _json({"key": raw, **rec.model_dump()})
            else:
                _out(raw)
                sys.stderr.write("(shown once: store it now; the hub keeps only its hash)\n")
        elif a == "keys":
            keys = hub.store.keys()
            if args.json:
                _json([k.model_dump() for k in keys])
                keys = []
            for k in keys:
                state = "revoked" if k.revoked_at else "active"
                _out(f"{k.id:>4}  slk_{k.prefix}_…  {k.name:<20} {','.join(k.scopes):<18} {k.project or 'all':<12} {state}")
        elif a == "revoke-key":
            from sessionlens.services.hub import Principal

            admin = next((u for u in hub.store.users() if u.role == "admin"), None)
            if admin is None:
                raise Fail("no admin account")
            admin_user = hub.store.user(user_id=admin.id)
            if admin_user is None:
                raise Fail("no admin account")
            k = hub.revoke_key(Principal(user=admin_user), args.key_id)
            hub.audit(actor, "key.revoke", target=f"slk_{k.prefix}", source="cli")
            _out(f"revoked slk_{k.prefix}_…")
    except HubError as e:
        raise Fail(str(e)) from None
    return 0


def cmd_audit(args) -> int:
    from sessionlens.services.hub import Hub

    hub = Hub(_app(args))
    if args.verify:
        res = hub.verify_audit()
        if args.json:
            _json(res)
        else:
            _out(("ok: " if res["ok"] else "TAMPERED: ") + res["message"])
        if res["ok"]:
            hub.seal_audit()
        return 0 if res["ok"] else 4
    entries = hub.store.audit(limit=args.limit, action=args.action, actor=args.actor, ascending=True)
    if args.json or args.export:
        text = "".join(json.dumps(e.model_dump(), ensure_ascii=False) + "\n" for e in entries)
        if args.export:
            with open(args.export, "w", encoding="utf-8") as fh:
                fh.write(text)
            sys.stderr.write(f"wrote {len(entries)} entries to {args.export}\n")
        else:
            sys.stdout.write(text)
        return 0
    from datetime import datetime

    for e in entries:
        t = datetime.fromtimestamp(e.ts).strftime("%Y-%m-%d %H:%M:%S")
        _out(f"{e.id:>6}  {t}  {e.actor:<24} {e.action:<16} {e.outcome:<8} {e.target or '-'}  {e.source or ''}")
    return 0


# ---------------------------------------------------------------------- push
def cmd_push(args) -> int:
    from sessionlens.web.push import PushError, run

    key = args.key or os.environ.get("SESSIONLENS_HUB_KEY")
    if not key:
        raise Fail("give the hub key with --key or $SESSIONLENS_HUB_KEY")
    app = _app(args)
    try:
        st = run(
            app,
            url=args.to,
            key=key,
            machine=args.machine,
            project=args.project,
            paths=args.paths or None,
            redact=not args.no_redact,
            follow=args.follow,
            interval=args.interval,
            quiet=args.json,
        )
    except PushError as e:
        raise Fail(str(e)) from None
    except KeyboardInterrupt:
        return 130
    if args.json:
        _json(st.to_dict())
    else:
        _out(
            f"pushed {st.chunks} chunk(s) of {st.files} file(s), {st.bytes_sent:,} bytes"
            f"{' (secrets redacted)' if not args.no_redact else ''}; {st.duplicates} already there, {st.retries} retries"
        )
        for r in st.refused:
            _out(f"  refused: {r}")
    return 1 if st.refused else 0


# ---------------------------------------------------------------------- views
def cmd_views(args) -> int:
    from sessionlens.services import web as svc

    app = _app(args)
    if args.save:
        f = {k: getattr(args, k) for k in ("agent", "project", "since", "until") if getattr(args, k, None)}
        if args.text:
            f["q"] = args.text
        if args.has_findings:
            f["findings"] = "1"
        if args.sort:
            f["sort"] = args.sort
        if args.asc:
            f["order"] = "asc"
        try:
            v = svc.save_view(app, args.save, f)
        except svc.ViewError as e:
            raise Fail(str(e)) from None
        _out(f"saved view {args.save}: {json.dumps(v)}")
        return 0
    if args.delete:
        if not svc.delete_view(app, args.delete):
            raise Fail(f"no saved view named {args.delete!r}")
        _out(f"deleted view {args.delete}")
        return 0
    views = svc.saved_views(app)
    if args.json:
        _json(views)
        return 0
    if not views:
        _out("No saved views (save one in the web UI or with `sessionlens views --save NAME --agent claude ...`).")
    for name, f in sorted(views.items()):
        _out(f"{name:<24} {' '.join(f'{k}={v}' for k, v in f.items())}")
    return 0


def view_filters(app, name: str) -> dict[str, Any]:
    """A saved view's filters as CLI keyword arguments (for ``sessions --view NAME``)."""
    from sessionlens.services import web as svc

    return svc.view(app, name)


def _wrap(fn):
    def run(args):
        try:
            return fn(args)
        except Fail as e:
            sys.stderr.write(f"sessionlens: {e}\n")
            return 1

    return run


EXAMPLES = {
    "serve": "examples:\n  sessionlens serve                 # the web UI on http://127.0.0.1:8765 (open the printed URL)\n"
    "  sessionlens serve --port 0        # any free port\n"
    "  sessionlens serve --team --behind-tls-proxy --allowed-host sessions.example.com",
    "admin": "examples:\n  sessionlens admin create-user alice --role admin\n  sessionlens admin create-key bob --scopes ingest\n"
    "  sessionlens admin keys",
    "admin create-user": "examples:\n  sessionlens admin create-user alice --role admin\n"
    '  echo "$PW" | sessionlens admin create-user bob --project payments --password-stdin',
    "admin users": "examples:\n  sessionlens admin users\n  sessionlens admin users --json",
    "admin set-role": "examples:\n  sessionlens admin set-role bob viewer",
    "admin add-member": "examples:\n  sessionlens admin add-member bob payments",
    "admin remove-member": "examples:\n  sessionlens admin remove-member bob payments",
    "admin disable": "examples:\n  sessionlens admin disable bob",
    "admin enable": "examples:\n  sessionlens admin enable bob",
    "admin set-password": 'examples:\n  sessionlens admin set-password alice\n  echo "$PW" | sessionlens admin set-password alice --password-stdin',
    "admin create-key": "examples:\n  sessionlens admin create-key bob --scopes ingest --expires-days 90\n"
    "  sessionlens admin create-key ci --scopes read --project payments --name ci-reader",
    "admin keys": "examples:\n  sessionlens admin keys",
    "admin revoke-key": "examples:\n  sessionlens admin revoke-key 3",
    "audit": "examples:\n  sessionlens audit --verify\n  sessionlens audit --action signin --limit 20\n  sessionlens audit --export audit.jsonl",
    "push": "examples:\n  SESSIONLENS_HUB_KEY=slk_… sessionlens push --to https://sessions.example.com\n"
    "  sessionlens push --to https://sessions.example.com --key slk_… --follow",
    "views": "examples:\n  sessionlens views\n  sessionlens views --save failing-api --project api --has-findings\n"
    "  sessionlens sessions --view failing-api\n  sessionlens views --delete failing-api",
}


def _with_examples(parser: argparse.ArgumentParser, path: str = "") -> None:
    """Every command of this module gets its examples (the CLI's convention) as an unwrapped epilog."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sp in action.choices.items():
                full = f"{path} {name}".strip()
                if full in EXAMPLES:
                    sp.epilog = EXAMPLES[full]
                    sp.formatter_class = argparse.RawDescriptionHelpFormatter
                _with_examples(sp, full)


def register(sub, common: argparse.ArgumentParser) -> None:
    sp = sub.add_parser(
        "serve",
        parents=[common],
        help="the web UI on this machine (or, with --team, a team hub)",
        description="Serve the sessions, search, cost, coach and evals pages. Local mode binds 127.0.0.1 and "
        "prints a URL with a per-start access token; --team serves a hub with accounts and API keys.",
    )
    sp.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; non-loopback needs --team)")
    sp.add_argument("--port", type=int, default=8765, help="port (0 picks a free one; default 8765)")
    sp.add_argument("--team", action="store_true", help="serve a team hub: sign-in, roles, API keys, push, audit log")
    sp.add_argument("--allowed-host", action="append", metavar="HOST[:PORT]", help="an extra Host header to accept (the proxy's name)")
    sp.add_argument("--tls-cert", help="serve https with this certificate (PEM)")
    sp.add_argument("--tls-key", help="the certificate's private key (PEM)")
    sp.add_argument("--behind-tls-proxy", action="store_true", help="a TLS reverse proxy fronts the hub: Secure cookies, HSTS")
    sp.add_argument("--trust-proxy", action="store_true", help="take client addresses from X-Forwarded-For (only behind your proxy)")
    sp.add_argument("--no-index", action="store_true", help="do not index the agent logs when starting")
    sp.add_argument("--no-home-logs", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    sp.set_defaults(func=_wrap(cmd_serve))

    sp = sub.add_parser("admin", parents=[common], help="manage the team hub's members, roles and API keys")
    asub = sp.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = asub.add_parser("create-user", parents=[common], help="add a user (the first one is the admin)")
    a.add_argument("username", help="the new user's sign-in name")
    a.add_argument(
        "--role",
        choices=["admin", "member", "viewer"],
        help="admin (members, keys, settings), member (push, read their projects), viewer (read); "
        "default: admin for the first user, else member",
    )
    a.add_argument("--project", action="append", help="a project the user belongs to (repeatable)")
    a.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    asub.add_parser("users", parents=[common], help="list users")
    a = asub.add_parser("set-role", parents=[common], help="change a user's role")
    a.add_argument("username", help="the user whose role changes")
    a.add_argument("role_value", choices=["admin", "member", "viewer"], metavar="ROLE", help="admin, member or viewer")
    for name in ("add-member", "remove-member"):
        a = asub.add_parser(name, parents=[common], help=f"{name.split('-')[0]} a user to/from a project")
        a.add_argument("username", help="the user")
        a.add_argument("project_name", metavar="PROJECT", help="the hub project (repository) name")
    for name in ("disable", "enable"):
        a = asub.add_parser(name, parents=[common], help=f"{name} a user (disabling signs them out)")
        a.add_argument("username", help="the user")
    a = asub.add_parser("set-password", parents=[common], help="set a user's password")
    a.add_argument("username", help="the user")
    a.add_argument("--password-stdin", action="store_true", help="read the password from stdin (else a prompt)")
    a = asub.add_parser("create-key", parents=[common], help="create an API key for a user (printed once)")
    a.add_argument("username", help="the user (or service account) the key acts as")
    a.add_argument("--name", default="key", help="a label for the key, shown in `admin keys` (default: key)")
    a.add_argument("--scopes", default="ingest", help="comma-separated: ingest, read, admin")
    a.add_argument("--project", dest="key_project", help="restrict the key to one project")
    a.add_argument("--expires-days", type=float, metavar="DAYS", help="the key stops working after DAYS days (default: never)")
    asub.add_parser("keys", parents=[common], help="list API keys (never their secrets)")
    a = asub.add_parser("revoke-key", parents=[common], help="revoke an API key")
    a.add_argument("key_id", type=int, metavar="KEY_ID", help="the key's id, as `admin keys` lists it")
    sp.set_defaults(func=_wrap(cmd_admin), password_stdin=False)

    sp = sub.add_parser("audit", parents=[common], help="read, export or verify the team hub's audit log")
    sp.add_argument("--verify", action="store_true", help="check the hash chain (exit 4 when tampered)")
    sp.add_argument("--export", metavar="FILE", help="write the entries as JSON lines")
    sp.add_argument("--action", help="only entries of this action (signin, push, key.create, …)")
    sp.add_argument("--actor", help="only entries of this user or key")
    sp.add_argument("--limit", type=int, default=1000, metavar="N", help="at most N entries, newest first (default 1000)")
    sp.set_defaults(func=_wrap(cmd_audit))

    sp = sub.add_parser("push", parents=[common], help="ship this machine's sessions to a team hub (secrets redacted)")
    sp.add_argument("paths", nargs="*", help="only logs under these files or folders (default: every indexed JSONL log)")
    sp.add_argument("--to", required=True, metavar="URL", help="the hub, e.g. https://sessions.example.com")
    sp.add_argument("--key", help="an API key with the ingest scope (default $SESSIONLENS_HUB_KEY)")
    sp.add_argument("--project", help="hub project for every pushed session (default: the session's project folder name)")
    sp.add_argument("--machine", help="this machine's name on the hub (default: the host name)")
    sp.add_argument("--no-redact", action="store_true", help="send secrets as they are (NOT recommended)")
    sp.add_argument("--follow", action="store_true", help="keep pushing live sessions as they grow")
    sp.add_argument("--interval", type=float, default=2.0, help="seconds between passes with --follow")
    sp.add_argument("--no-home-logs", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    sp.set_defaults(func=_wrap(cmd_push))

    sp = sub.add_parser("views", parents=[common], help="saved views: named session filters shared with the web UI")
    sp.add_argument("--save", metavar="NAME", help="save the filters given as the view NAME")
    sp.add_argument("--delete", metavar="NAME", help="delete the view NAME")
    sp.add_argument("--agent", help="the view's agent filter (codex, claude, gemini, …)")
    sp.add_argument("--project", help="the view's project filter (root or name)")
    sp.add_argument("--since", help="the view's start: ISO date/time or a span back (7d)")
    sp.add_argument("--until", help="the view's end: ISO date/time")
    sp.add_argument("--text", help="the view's text filter (words in titles and prompts)")
    sp.add_argument("--has-findings", action="store_true", help="only sessions with coach findings")
    sp.add_argument(
        "--sort",
        choices=("started", "ended", "cost", "tokens", "events", "turns", "findings", "agent", "title"),
        help="the view's order (default: newest first)",
    )
    sp.add_argument("--asc", action="store_true", help="oldest / smallest first")
    sp.set_defaults(func=_wrap(cmd_views))
    for name in ("serve", "admin", "audit", "push", "views"):
        p = sub.choices[name]
        p.epilog = EXAMPLES[name]
        p.formatter_class = argparse.RawDescriptionHelpFormatter
        _with_examples(p, name)
