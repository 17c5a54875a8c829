"""``sessionlens export --otlp ENDPOINT``: sessions as OpenTelemetry GenAI traces (the CLI side)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_arguments(sp: argparse.ArgumentParser) -> None:
    g = sp.add_argument_group("OpenTelemetry export (OTLP/HTTP protobuf; needs the 'otel' extra)")
    g.add_argument(
        "--otlp",
        metavar="ENDPOINT",
        nargs="?",
        const="",
        help="send sessions as GenAI traces to this OTLP/HTTP endpoint, e.g. http://localhost:6006 "
        "(Phoenix) or http://collector:4318; without a value, $OTEL_EXPORTER_OTLP_ENDPOINT. "
        "Headers come from $OTEL_EXPORTER_OTLP_HEADERS",
    )
    g.add_argument("--follow", action="store_true", help="keep indexing and sending new events until interrupted")
    g.add_argument("--content", action="store_true", help="include prompts, tool arguments and results (always redacted); off by default")
    g.add_argument(
        "--no-openinference",
        action="store_true",
        help="omit the OpenInference attributes (openinference.span.kind, llm.token_count.*) Phoenix reads",
    )
    g.add_argument(
        "--otlp-project",
        default="sessionlens",
        metavar="NAME",
        help="backend project name (resource attribute openinference.project.name; default: sessionlens)",
    )
    g.add_argument("--again", action="store_true", help="send every selected session again, even those the endpoint already has")


def wanted(args: argparse.Namespace) -> bool:
    return getattr(args, "otlp", None) is not None


def run(app: Any, args: argparse.Namespace, *, as_json: bool) -> int:
    from sessionlens.services.otlp import ExportError, OtlpExport
    from sessionlens.telemetry.otlp import OtlpUnavailable

    ex = OtlpExport(app, args.otlp or None, content=args.content, openinference=not args.no_openinference, project_name=args.otlp_project)
    selection: dict[str, Any] = {
        "session": getattr(args, "session", None),
        "project": getattr(args, "project", None),
        "agent": getattr(args, "agent", None),
        "since": getattr(args, "since", None),
    }
    try:
        if args.follow:
            sys.stderr.write(f"sending new events to {ex.url} as they are indexed (Ctrl-C stops)\n")

            def progress(st) -> None:
                if st.spans:
                    sys.stderr.write(f"  {st.sessions} session(s), {st.spans} span(s) sent\n")

            try:
                st = ex.follow(on_progress=progress, **selection)
            except KeyboardInterrupt:
                return 0
        else:
            st = ex.run(ex.select(**selection), resume=not args.again)
    except (ExportError, OtlpUnavailable) as e:
        raise SystemExit(f"sessionlens: {e}") from None
    d = st.as_dict()
    if as_json:
        sys.stdout.write(json.dumps(d, indent=2) + "\n")
    else:
        s = "" if st.sessions == 1 else "s"
        msg = f"sent {st.sessions} session{s} ({st.spans} spans, {st.bytes / 1e6:.1f} MB) to {st.endpoint}"
        if st.unchanged:
            msg += f"; {st.unchanged} unchanged since the last export (--again sends them anyway)"
        sys.stderr.write(msg + " — secrets redacted\n")
    return 0
