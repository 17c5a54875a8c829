"""sessionlens observing itself: spans and metrics of an index pass reach a loopback OTLP receiver when
the standard variables ask for it; without them the SDK is never imported."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from sessionlens.services import selftrace
from tests.telemetry.test_otlp import Receiver

SCRIPT = textwrap.dedent("""
    import logging, sys
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    from sessionlens.samples.generator import generate_corpus
    from sessionlens.services.app import App
    from sessionlens.services.settings import Settings
    from sessionlens.services import selftrace
    generate_corpus(sys.argv[1] + "/logs", seed=3, total_bytes=150_000)
    app = App(Settings(storePath=sys.argv[1] + "/home", includeHomeLogs=False))
    st = app.index([sys.argv[1] + "/logs"])
    print("SDK", "opentelemetry.sdk" in sys.modules, st.files_changed)
    selftrace.shutdown()
""")


def _run(tmp_path, env):
    base = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    return subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, env={**base, **env}, timeout=120)


def test_without_otel_variables_the_sdk_is_not_imported(tmp_path):
    r = _run(tmp_path, {})
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[:2] == ["SDK", "False"] and int(r.stdout.split()[2]) > 0
    assert not selftrace.wanted({}) and not selftrace.wanted({"OTEL_TRACES_EXPORTER": "none"})
    assert not selftrace.wanted({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x", "OTEL_SDK_DISABLED": "true"})


def test_an_index_pass_is_traced_and_measured(tmp_path):
    rec = Receiver()
    try:
        r = _run(tmp_path, {"OTEL_EXPORTER_OTLP_ENDPOINT": rec.url, "OTEL_METRIC_EXPORT_INTERVAL": "100000"})
        assert r.returncode == 0, r.stderr
        assert r.stdout.split()[:2] == ["SDK", "True"]
        spans = [sp for _, _, sp in rec.spans()]
        idx = [sp for sp in spans if sp.name == "sessionlens.index"]
        assert len(idx) == 1
        attrs = {kv.key: kv.value for kv in idx[0].attributes}
        assert attrs["sessionlens.index.files_changed"].int_value > 0
        assert attrs["sessionlens.index.bytes_parsed"].int_value > 100_000
        # the log line written inside the span carries the span's trace id
        tid = idx[0].trace_id.hex()
        assert f"[trace={tid}] index pass:" in r.stderr
        metrics = rec.metric_names()
        assert {"sessionlens.index.duration", "sessionlens.index.bytes", "sessionlens.index.files"} <= metrics
    finally:
        rec.close()
