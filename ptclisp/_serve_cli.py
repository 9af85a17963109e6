"""``ptclisp serve MODULE:ATTR``: serve an ``AgentHost`` over HTTP (uvicorn; ``[serve]`` extra).

    ptclisp serve examples.serve_app:host --store sqlite:///ptclisp.db --port 8000 \\
        --secret "$PTCLISP_WEBHOOK_SECRET" --token "$PTCLISP_TOKEN"

Refuses to start without a webhook secret and a token (flags or ``PTCLISP_WEBHOOK_SECRET`` /
``PTCLISP_TOKEN``) unless ``--insecure``, which binds to 127.0.0.1 only and says so.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from typing import Any

__all__ = ["add_serve_parser", "serve_main"]


def add_serve_parser(sub: Any) -> None:
    serve = sub.add_parser("serve", help="serve an AgentHost over HTTP (webhooks, inbox)")
    serve.add_argument("target", help="MODULE:ATTR naming an AgentHost (or a function making one)")
    serve.add_argument("--store", help="sqlite:///PATH (default ./ptclisp.db) or postgresql://...")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--secret", help="webhook HMAC secret (or PTCLISP_WEBHOOK_SECRET)")
    serve.add_argument("--token", help="bearer token for the API (or PTCLISP_TOKEN)")
    serve.add_argument("--insecure", action="store_true",
                       help="allow no secret/token; binds 127.0.0.1 only")
    serve.add_argument("--max-body", type=int, default=1 << 20, help="largest body in bytes")
    serve.set_defaults(handler=lambda args, parser: serve_main(args), command_parser=serve)


def serve_main(args: argparse.Namespace) -> int:
    secret = args.secret or os.environ.get("PTCLISP_WEBHOOK_SECRET") or None
    token = args.token or os.environ.get("PTCLISP_TOKEN") or None
    if not args.insecure and (not secret or not token):
        print("ptclisp serve: refusing to start without a webhook secret and a token "
              "(--secret/--token or PTCLISP_WEBHOOK_SECRET/PTCLISP_TOKEN); use --insecure for "
              "a local trial bound to 127.0.0.1", file=sys.stderr)
        return 2
    bind = args.host
    if args.insecure and bind != "127.0.0.1":
        print(f"ptclisp serve: --insecure binds 127.0.0.1 only (not {bind})", file=sys.stderr)
        bind = "127.0.0.1"
    if args.insecure:
        print("ptclisp serve: INSECURE mode: " + ("no webhook signature check; " if not secret
              else "") + ("no bearer token; " if not token else "") + "listening on 127.0.0.1",
              file=sys.stderr)
    try:
        host = _load(args.target)
        if args.store:
            host.use_store(args.store)
        import uvicorn

        from ptclisp.subagent import create_app
    except Exception as exc:
        print(f"ptclisp serve: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = create_app(host, secret=secret, token=token, insecure=args.insecure,
                     max_body=args.max_body)
    uvicorn.run(app, host=bind, port=args.port, log_level="warning")
    return 0


def _load(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise ValueError(f"expected MODULE:ATTR, got {target!r}")
    sys.path.insert(0, os.getcwd())
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    from ptclisp.subagent import AgentHost

    if not isinstance(obj, AgentHost) and callable(obj):
        obj = obj()
    if not isinstance(obj, AgentHost):
        raise TypeError(f"{target} is a {type(obj).__name__}, not an AgentHost")
    return obj
