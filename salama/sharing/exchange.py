"""Instance to instance: pull another Salama's records through its REST API (``salama exchange
pull``) and import them here as one interchange batch.

The client reads the remote's feed page by page (``/api/v1/incidents``, or a redacted
agreement's ``/api/v1/shared/{id}/incidents``) into a JSON Lines file, holding one page in
memory at a time, then hands the file to the batch runner with the ``salama`` format
(``salama.interchange.formats.salama_api``): identity, quarantine, the report and the audit
entry are the runner's. Nothing is imported until the whole feed has been read, so a remote
that fails half-way (unreachable, 5xx) leaves nothing half-imported here, and the next pull
starts again from the same point.

``ExchangeState`` remembers the last change imported per remote, feed and local organisation;
the next pull asks for changes since then (less ``OVERLAP``, since a remote transaction may
commit after a later one: what comes twice is found unchanged).

After the import:

- ``/api/v1/merged`` (the incidents feed only): a remote incident merged into another becomes
  "merged" here too, pointing to the local copy of its survivor. Its source stays with it (a
  local merge moves sources, and would then refuse every later update of the survivor's copy as
  "merged with other reports").
- ``reconcile`` reads every reference the key may see now; a local copy that is not among
  them is withdrawn: marked TLP:RED without named recipients (the door then shows it to
  nobody but the person who ran the import, if one was named), with its source's note saying
  when and why and its content hash cleared, so that if it is shared again the runner finds it
  changed and restores the received marking. Nothing is deleted; each withdrawal is in the
  audit log.
"""

import datetime
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from salama import __version__
from salama.core import audit
from salama.core.markings import TLP
from salama.incidents import choices as c
from salama.incidents.models import Incident, Source
from salama.incidents.services import full_snapshot
from salama.interchange.formats import salama_api
from salama.interchange.models import ImportBatch
from salama.interchange.runner import run_import
from salama.sharing.models import ExchangeState

TIMEOUT = (10, 60)  # seconds: to connect, then between bytes
PAGE = 500  # the API's largest page
REFERENCE_PAGE = 5000
OVERLAP = datetime.timedelta(minutes=5)
RETRIES_WHEN_THROTTLED = 5
LONGEST_WAIT = 120  # seconds, whatever Retry-After asks
WITHDRAWN = "Withdrawn"
LOOPBACK = {"localhost", "127.0.0.1", "::1"}  # plain http only to the same machine
SLICE = 500  # ids per query, under every database's parameter limit


class ExchangeError(Exception):
    """The pull cannot go on; the message says why, for a person to read."""


class NotShared(ExchangeError):
    """404: the remote does not share this with the key (or it does not exist)."""


@dataclass
class Remote:
    """Another Salama instance's REST API, as one key sees it."""

    url: str
    token: str
    timeout: tuple = TIMEOUT
    page_size: int = PAGE
    sleep: object = time.sleep
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self):
        self.url = base_url(self.url)
        self.session.headers.update(
            {
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/json",
                "User-Agent": f"salama-exchange/{__version__}",
            }
        )

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc.lower()

    def get(self, path: str, params: dict | None = None) -> dict | list:
        """One JSON answer; waits politely when throttled (429), fails clearly otherwise."""
        address = f"{self.url}/api/v1{path}"
        for attempt in range(RETRIES_WHEN_THROTTLED + 1):
            try:
                response = self.session.get(address, params=params, timeout=self.timeout)
            except requests.Timeout:
                raise ExchangeError(
                    f"{self.url} did not answer in time; try again later."
                ) from None
            except requests.ConnectionError as exc:
                raise ExchangeError(f"Cannot reach {self.url} ({_first_line(exc)}).") from None
            if response.status_code != 429:
                break
            if attempt == RETRIES_WHEN_THROTTLED:
                raise ExchangeError(
                    f"{self.url} keeps refusing requests from this key as too many (429); "
                    "try again in a few minutes."
                )
            self.sleep(_wait(response, attempt))
        status = response.status_code
        if status == 401:
            raise ExchangeError(
                f"{self.url} refused the key (401): it is wrong, revoked or expired. Ask the "
                "remote's organisation admin for a new one."
            )
        if status == 404:
            raise NotShared(_detail(response) or f"{address}: not found.")
        if status >= 500:
            raise ExchangeError(
                f"{self.url} failed ({status}) on {path}; nothing was imported. Try again later."
            )
        if status != 200:
            raise ExchangeError(f"{self.url} answered {status} on {path}: {_detail(response)}")
        try:
            return response.json()
        except ValueError:
            raise ExchangeError(f"{address} did not answer with JSON: is it a Salama?") from None

    def pages(self, path: str, params: dict, key: str = "results"):
        """Each page's results, following ``next``."""
        params = dict(params)
        while True:
            body = self.get(path, params)
            if not isinstance(body, dict) or not isinstance(body.get(key), list):
                raise ExchangeError(f"{self.url}{path} did not answer with a page of {key}.")
            yield body[key]
            if not body.get("next"):
                return
            params["after"] = body["next"]


def base_url(url: str) -> str:
    """``https://host[:port][/prefix]`` without a trailing slash; refuses anything else."""
    parts = urlsplit((url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ExchangeError(f"{url!r} is not the address of a Salama (https://host).")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        raise ExchangeError(
            f"{url} is plain http: the key would cross the network readable. Use https."
        )
    if parts.query or parts.fragment:
        raise ExchangeError("Give the remote's base address only, without ?query or #fragment.")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def read_token(path) -> str:
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ExchangeError(f"Cannot read the key file {path}: {exc.strerror}.") from None
    if not token:
        raise ExchangeError(f"The key file {path} is empty.")
    return token


def _wait(response, attempt: int) -> float:
    try:
        asked = float(response.headers.get("Retry-After", ""))
    except ValueError:
        asked = 2 ** (attempt + 1)
    return max(1.0, min(asked, LONGEST_WAIT))


def _detail(response) -> str:
    try:
        detail = response.json().get("detail", "")
    except (ValueError, AttributeError):
        detail = ""
    return str(detail)[:300] if detail else response.text[:300]


def _first_line(exc) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


@dataclass
class Pull:
    """What one pull did."""

    feed: str
    batch: ImportBatch | None = None
    merged: int = 0
    withdrawn: int = 0
    restored: int = 0
    notes: list[str] = field(default_factory=list)

    def report(self) -> dict:
        return {
            "feed": self.feed,
            "batch": self.batch.report() if self.batch else None,
            "merged": self.merged,
            "withdrawn": self.withdrawn,
            "restored": self.restored,
            "notes": self.notes,
        }


def pull(
    remote: Remote,
    organisation,
    *,
    agreement: int | None = None,
    since: datetime.datetime | None = None,
    reconcile: bool = False,
    user=None,
    progress=None,
) -> Pull:
    """Pull the remote's feed into ``organisation``'s incidents; see the module's docstring."""
    feed = f"shared/{agreement}" if agreement else "incidents"
    done = Pull(feed)
    # Saved only once a pull went through: a failed one leaves no trace to resume from.
    state = ExchangeState.objects.filter(
        url=remote.url, feed=feed, organisation=organisation
    ).first() or ExchangeState(url=remote.url, feed=feed, organisation=organisation)
    feed_url = f"{remote.url}/api/v1/{feed}" + ("/incidents" if agreement else "")
    level = "full"
    if agreement:
        try:
            level = _agreement_level(remote, agreement)
        except NotShared as exc:
            if not reconcile:
                raise
            # The agreement ended (or expired): every copy it brought is withdrawn.
            done.notes.append(str(exc))
            done.withdrawn = withdraw(
                _copies(remote, feed_url, organisation, level="redacted"), remote.host, user
            )
            return done
    asked_since = since or (state.since - OVERLAP if state.since else None)
    done.batch, latest = _import(
        remote, feed, feed_url, level, organisation, asked_since, user, progress
    )
    if feed == "incidents":
        done.merged, merged_latest = follow_merges(remote, organisation, state.merged_since, user)
        state.merged_since = merged_latest or state.merged_since
    if reconcile:
        path = f"/shared/{agreement}/references" if agreement else "/references"
        shared = set()
        for page in remote.pages(path, {"limit": REFERENCE_PAGE}):
            shared.update(r for r in page if isinstance(r, str))
        gone, again = [], False
        prefix = len(remote.host) + 1
        for pk, external_id, digest, marking in _copies(
            remote, feed_url, organisation, level
        ).values_list("pk", "external_id", "content_hash", "incident__marking"):
            if external_id[prefix:] not in shared:
                gone.append(pk)
            elif not digest and marking == TLP.RED:
                again = True
        for start in range(0, len(gone), SLICE):
            part = Source.objects.filter(pk__in=gone[start : start + SLICE])
            done.withdrawn += withdraw(part, remote.host, user)
        if again:
            # Shared again, but unchanged there since: only a pull of the whole feed brings
            # them (the runner finds their cleared hash changed and restores them).
            batch, _ = _import(remote, feed, feed_url, level, organisation, None, user, progress)
            done.restored = batch.updated
            done.notes.append(f"A second pass of the whole feed was batch {batch.pk}.")
    state.since = max(filter(None, [state.since, latest]), default=None)
    state.pulled_at = timezone.now()
    state.last_batch = done.batch
    state.save()
    return done


def _agreement_level(remote: Remote, agreement: int) -> str:
    listed = remote.get("/shared")
    if not isinstance(listed, list) or not all(isinstance(a, dict) for a in listed):
        raise ExchangeError(f"{remote.url}/api/v1/shared did not answer with agreements.")
    for shared in listed:
        if shared.get("id") == agreement:
            if shared.get("level") != "redacted":
                raise ExchangeError(
                    f"Agreement {agreement} shares at the {shared.get('level')} level: full "
                    "records come with a pull without --agreement; figures are not imported."
                )
            return "redacted"
    raise NotShared(
        f"Agreement {agreement} is not in force for this key's organisation at {remote.url}."
    )


def _import(remote, feed, feed_url, level, organisation, since, user, progress):
    """Read the whole feed into a file, then import it; the batch and the last change read."""
    params = {"limit": remote.page_size}
    if since:
        params["updated_since"] = since.isoformat()
    path = "/" + feed + ("/incidents" if feed.startswith("shared/") else "")
    latest = None
    with tempfile.TemporaryDirectory(prefix="salama-exchange-") as folder:
        file = Path(folder) / f"{remote.host.replace(':', '_')}-{feed.replace('/', '-')}.jsonl"
        with file.open("w", encoding="utf-8") as out:
            out.write(salama_api.header_line(remote.host, level, feed_url))
            read = 0
            for page in remote.pages(path, params):
                for record in page:
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
                    latest = _later(latest, record)
                read += len(page)
                if progress:
                    progress(read)
        batch = run_import("salama", file, organisation=organisation, user=user)
    return batch, latest


def _later(latest, record):
    try:
        moment = datetime.datetime.fromisoformat(str(record.get("updated_at")))
    except (AttributeError, ValueError):
        return latest
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, datetime.UTC)
    return moment if latest is None or moment > latest else latest


def _copies(remote: Remote, feed_url: str, organisation, level: str):
    """The sources of the local copies this feed brought."""
    separator = "#" if level == "redacted" else "/"
    return Source.objects.filter(
        system=salama_api.SOURCE_SYSTEM,
        external_id__startswith=f"{remote.host}/",
        url__startswith=f"{feed_url}{separator}",
        incident__organisation=organisation,
    ).exclude(incident__status=c.Status.MERGED)


def _withdrawn(copies):
    return copies.filter(content_hash="", incident__marking=TLP.RED)


def withdraw(copies, host: str, user=None) -> int:
    """Withdraw these copies (see the module's docstring); those withdrawn already are left."""
    count = 0
    today = timezone.localdate().isoformat()
    for source in copies.exclude(pk__in=_withdrawn(copies).values("pk")).select_related("incident"):
        with transaction.atomic():
            incident = Incident.objects.select_for_update().get(pk=source.incident_id)
            before = full_snapshot(incident)
            incident.marking, incident.version = TLP.RED, F("version") + 1
            incident.save(update_fields=["marking", "version", "updated_at"])
            incident.refresh_from_db()
            Source.objects.filter(pk=source.pk).update(
                content_hash="",
                note=f"{WITHDRAWN} on {today}: {host} no longer shares it with this key.",
            )
            audit.record(
                "exchange:withdraw",
                actor=user if getattr(user, "pk", None) else None,
                obj=incident,
                before=before,
                after=full_snapshot(incident),
            )
        count += 1
    return count


def follow_merges(remote: Remote, organisation, since, user=None) -> tuple[int, object]:
    """Mark the local copies of remote duplicates as merged into the copies of their
    survivors; how many, and the last change read."""
    params = {"limit": remote.page_size}
    if since:
        params["updated_since"] = (since - OVERLAP).isoformat()
    count, latest = 0, None
    for page in remote.pages("/merged", params):
        latest = max(filter(None, [latest, *(_later(None, r) for r in page)]), default=None)
        wanted = {}
        for row in page:
            if isinstance(row, dict) and {"reference", "merged_into"} <= row.keys():
                wanted[f"{remote.host}/{row['reference']}"] = f"{remote.host}/{row['merged_into']}"
        copies = dict(
            Source.objects.filter(
                system=salama_api.SOURCE_SYSTEM,
                external_id__in=[*wanted, *wanted.values()],
                incident__organisation=organisation,
            ).values_list("external_id", "incident_id")
        )
        for duplicate, survivor in wanted.items():
            if duplicate in copies and survivor in copies:
                count += _merge(copies[duplicate], copies[survivor], remote.host, user)
    return count, latest


def _merge(duplicate_id: int, survivor_id: int, host: str, user) -> int:
    with transaction.atomic():
        duplicate = Incident.objects.select_for_update().get(pk=duplicate_id)
        if duplicate.status == c.Status.MERGED or duplicate_id == survivor_id:
            return 0
        before = full_snapshot(duplicate)
        duplicate.status, duplicate.merged_into_id = c.Status.MERGED, survivor_id
        duplicate.version = F("version") + 1
        duplicate.save(update_fields=["status", "merged_into", "version", "updated_at"])
        duplicate.refresh_from_db()
        audit.record(
            "exchange:merge",
            actor=user if getattr(user, "pk", None) else None,
            obj=duplicate,
            before=before,
            after={**full_snapshot(duplicate), "merged_at": host},
        )
    return 1
