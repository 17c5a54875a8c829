"""The web UI / hub observing itself: with OTEL_EXPORTER_OTLP_ENDPOINT set, each request becomes a span named
by its route with the response status, and a latency sample; a rate-limited request is counted. Run in a
subprocess (the SDK is process-wide) against a loopback OTLP receiver."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from tests.telemetry.test_otlp import Receiver

SCRIPT = textwrap.dedent("""
    import asyncio, sys, urllib.request
    from sessionlens.services.app import App
    from sessionlens.services.settings import Settings
    from sessionlens.services import selftrace
    from sessionlens.web.security import WebConfig
    from sessionlens.web.server import start

    async def main():
        app = App(Settings(storePath=sys.argv[1], includeHomeLogs=False))
        cfg = WebConfig(index_on_start=False)
        runner, port = await start(app, cfg)
        loop = asyncio.get_running_loop()
        def get(path):
            try:
                return urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10).status
            except urllib.error.HTTPError as e:
                return e.code
        print("status", await loop.run_in_executor(None, get, "/healthz"),
              await loop.run_in_executor(None, get, "/"))
        await runner.cleanup()
    asyncio.run(main())
    selftrace.shutdown()
""")


def test_web_requests_are_traced_with_route_and_status(tmp_path):
    rec = Receiver()
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        env.update(OTEL_EXPORTER_OTLP_ENDPOINT=rec.url, OTEL_METRIC_EXPORT_INTERVAL="100000")
        r = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "home")], capture_output=True, text=True, env=env, timeout=120)
        assert r.returncode == 0, r.stderr
        assert "status 200 403" in r.stdout  # the page without the access token is refused
        spans = {sp.name: {kv.key: kv.value for kv in sp.attributes} for _, _, sp in rec.spans()}
        assert spans["GET /healthz"]["http.response.status_code"].int_value == 200
        assert spans["GET /"]["http.response.status_code"].int_value == 403
        assert spans["GET /"]["http.route"].string_value == "/"
        assert "sessionlens.hub.request.duration" in rec.metric_names()
    finally:
        rec.close()
