"""``sessionlens push --to URL``: ship this machine's session logs to a team hub.

Incremental and resumable: the hub says how far each file is committed (``/api/push/status``) and
the client sends the lines after that, in chunks that name their source byte range.  A retried
chunk (after a timeout, a dropped connection, a hub restart) is acknowledged as a duplicate, never
written twice; a refused gap tells the client where to resume.  Secrets are redacted before a byte
leaves the machine unless ``--no-redact`` is given.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from sessionlens.services import push as P
from sessionlens.services.app import App


class PushError(Exception):
    pass


@dataclass
class PushStats:
    files: int = 0
    chunks: int = 0
    duplicates: int = 0
    bytes_sent: int = 0
    retries: int = 0
    refused: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class HubClient:
    def __init__(self, url: str, key: str, *, timeout: float = 30.0, retries: int = 8, backoff: float = 0.5):
        if not url.startswith(("http://", "https://")):
            raise PushError("the hub URL must start with http:// or https://")
        self.url = url.rstrip("/")
        self.key = key
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.stats_retries = 0

    def post(self, path: str, obj: Any) -> tuple[int, Any]:
        data = json.dumps(obj).encode()
        delay = self.backoff
        for attempt in range(self.retries + 1):
            req = urllib.request.Request(
                self.url + path,
                data=data,
                method="POST",
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.key}"},
            )
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as r:
                    return r.status, json.loads(r.read() or b"null")
            except urllib.error.HTTPError as e:
                body = e.read()
                if e.code == 429 or e.code >= 500:
                    wait = float(e.headers.get("Retry-After") or delay)
                else:
                    try:
                        return e.code, json.loads(body)
                    except ValueError:
                        raise PushError(f"hub refused {path}: {e.code} {body.decode(errors='replace').strip()[:200]}") from None
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as e:
                wait = delay
                if attempt == self.retries:
                    raise PushError(f"cannot reach the hub at {self.url}: {e}") from None
            if attempt == self.retries:
                break
            self.stats_retries += 1
            time.sleep(min(wait, 30))
            delay = min(delay * 2, 10)
        raise PushError(f"the hub at {self.url} kept failing; try again later")


def push_once(
    app: App, client: HubClient, *, machine: str, project: str | None = None, paths: list[str] | None = None, redact: bool = True, log=None
) -> PushStats:
    files = P.candidates(app, machine=machine, project=project, paths=paths)
    return push_files(client, files, machine=machine, redact=redact, log=log)


def push_files(
    client: HubClient, files: list[P.PushFile], *, machine: str, redact: bool = True, log=None, latencies: list[float] | None = None
) -> PushStats:
    """Push the lines each file has beyond what the hub has committed."""
    stats = PushStats()
    committed: dict[str, int] = {}
    for i in range(0, len(files), 5000):
        code, body = client.post("/api/push/status", {"file_keys": [f.key for f in files[i : i + 5000]]})
        if code != 200:
            raise PushError(f"hub refused the status request: {code} {body}")
        committed.update(body.get("committed") or {})
    for f in files:
        off = int(committed.get(f.key, 0))
        if off >= f.size:
            continue
        stats.files += 1
        while True:
            chunk = P.read_chunk(f.path, off, redact_secrets=redact)
            if chunk is None:
                break
            end, text = chunk
            t0 = time.perf_counter()
            code, body = client.post("/api/push", {"chunks": [P.payload(f, machine, off, end, text)]})
            if latencies is not None:
                latencies.append(time.perf_counter() - t0)
            res = (body or {}).get("results", [{}])[0] if isinstance(body, dict) else {}
            st = res.get("status")
            if st in ("ok", "duplicate"):
                stats.chunks += 1
                stats.duplicates += st == "duplicate"
                stats.bytes_sent += len(text)
                off = int(res["committed"])
            elif res.get("code") == 409 and "committed" in res:
                off = int(res["committed"])  # resume where the hub is
            else:
                stats.refused.append(f"{f.path}: {res.get('error') or code}")
                break
        if log:
            log(f"pushed {f.source_name} ({f.project}) up to byte {off:,}")
    stats.retries = client.stats_retries
    return stats


def run(
    app: App,
    *,
    url: str,
    key: str,
    machine: str | None = None,
    project: str | None = None,
    paths: list[str] | None = None,
    redact: bool = True,
    follow: bool = False,
    interval: float = 2.0,
    quiet: bool = False,
    stop=None,
) -> PushStats:
    """Push once, or with ``follow`` keep pushing what live sessions append until ``stop`` (an Event) is set."""
    machine = machine or P.machine_name()
    client = HubClient(url, key)
    total = PushStats()
    log = None if quiet else (lambda m: sys.stderr.write(m + "\n"))
    while True:
        app.index(paths or None)
        st = push_once(app, client, machine=machine, project=project, paths=paths, redact=redact, log=log)
        for k in ("files", "chunks", "duplicates", "bytes_sent", "retries"):
            setattr(total, k, getattr(total, k) + getattr(st, k))
        total.refused += st.refused
        if not follow or (stop is not None and stop.is_set()):
            return total
        if stop is not None:
            stop.wait(interval)
        else:
            time.sleep(interval)
