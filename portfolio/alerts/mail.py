"""Email, the parts that need no database: a notification's mail and a digest composed from templates (plain
text and HTML), the signed one-click unsubscribe link, and the time rules (quiet hours, when a digest is due),
each read in the person's own time zone.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence

from django.conf import settings
from django.core import signing
from django.template.loader import render_to_string
from django.urls import reverse

from portfolio.choices import DigestFrequency

UNSUBSCRIBE_SALT = "spm.alerts.unsubscribe"
DIGEST_AT = dt.time(8, 0)
#: A digest lists this many notifications, then says how many more the inbox holds.
DIGEST_LIMIT = 50
SUBJECT_PREFIX = "[SPM] "
FIRST_DIGEST_GRACE = dt.timedelta(hours=1)
PERIOD = {DigestFrequency.DAILY: dt.timedelta(days=1), DigestFrequency.WEEKLY: dt.timedelta(days=7)}


def absolute(url: str) -> str:
    return url if url.startswith(("http://", "https://")) else settings.SPM_BASE_URL + url


# --------------------------------------------------------------------------------------------------
# Unsubscribe: a signed token for one person and address, good without signing in, for that one action
# --------------------------------------------------------------------------------------------------


def unsubscribe_token(user_id: int, address: str) -> str:
    return signing.dumps({"u": user_id, "a": address.lower()}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_reader(token: str) -> tuple[int, str] | None:
    """(user id, address) the token was made for, or None when it was not made here (or was altered)."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        return int(data["u"]), str(data["a"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def unsubscribe_url(user_id: int, address: str) -> str:
    return absolute(reverse("portfolio:unsubscribe", args=[unsubscribe_token(user_id, address)]))


# --------------------------------------------------------------------------------------------------
# Time: a person's zone, quiet hours, digest slots
# --------------------------------------------------------------------------------------------------


def zone_of(time_zone: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(time_zone or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def quiet_ends(
    now: dt.datetime, *, quiet_from: dt.time | None, quiet_until: dt.time | None, time_zone: str
) -> dt.datetime | None:
    """When the quiet hours around ``now`` end, or None when ``now`` is not in them. Hours may span midnight
    (22:00 to 07:00)."""
    if quiet_from is None or quiet_until is None or quiet_from == quiet_until:
        return None
    local = now.astimezone(zone_of(time_zone))
    clock = local.time().replace(tzinfo=None)
    if quiet_from < quiet_until:
        inside = quiet_from <= clock < quiet_until
    else:
        inside = clock >= quiet_from or clock < quiet_until
    if not inside:
        return None
    end = dt.datetime.combine(local.date(), quiet_until, tzinfo=local.tzinfo)
    if end <= local:
        end = dt.datetime.combine(local.date() + dt.timedelta(days=1), quiet_until, tzinfo=local.tzinfo)
    return end.astimezone(dt.UTC)


def digest_slot(now: dt.datetime, *, frequency: str, time_zone: str) -> dt.datetime:
    """The latest digest time at or before ``now``: 08:00 local today or before, on a Monday when weekly."""
    local = now.astimezone(zone_of(time_zone))
    day = local.date()
    if local.time().replace(tzinfo=None) < DIGEST_AT:
        day -= dt.timedelta(days=1)
    if frequency == DigestFrequency.WEEKLY:
        day -= dt.timedelta(days=day.weekday())
    return dt.datetime.combine(day, DIGEST_AT, tzinfo=local.tzinfo).astimezone(dt.UTC)


def digest_window(
    now: dt.datetime, *, frequency: str, time_zone: str, last_sent: dt.datetime | None
) -> tuple[dt.datetime, dt.datetime] | None:
    """(since, until) of the digest due at ``now``, or None when none is due: once per slot, covering what
    came since the last digest. A person's first digest goes in its slot's hour and covers one period (someone
    who chose a weekly digest on a Wednesday gets it on Monday); after that a slot the worker missed is sent
    late, once."""
    if frequency not in PERIOD:
        return None
    slot = digest_slot(now, frequency=frequency, time_zone=time_zone)
    if last_sent is not None and last_sent >= slot:
        return None
    if last_sent is None and now >= slot + FIRST_DIGEST_GRACE:
        return None
    since = last_sent if last_sent is not None else slot - PERIOD[frequency]
    return since, now


# --------------------------------------------------------------------------------------------------
# Composing
# --------------------------------------------------------------------------------------------------


def _items(notifications: Sequence) -> list[dict]:
    return [
        {
            "sentence": notification.sentence,
            "url": absolute(notification.url),
            "why": notification.why,
            "kind": notification.get_kind_display(),
            "at": notification.created_at,
        }
        for notification in notifications
    ]


def _context(user, address: str, time_zone: str) -> dict:
    return {
        "name": user.get_full_name() or user.get_username(),
        "unsubscribe_url": unsubscribe_url(user.pk, address),
        "settings_url": absolute(reverse("portfolio:alert-settings")),
        "inbox_url": absolute(reverse("portfolio:inbox")),
        "zone": zone_of(time_zone),
    }


def compose_immediate(user, address: str, notifications: Sequence, *, time_zone: str = "") -> dict:
    """Subject, bodies and headers of the mail for notifications just made (one mail for one batch)."""
    items = _items(notifications)
    if len(items) == 1:
        subject = items[0]["sentence"]
    else:
        subject = f"{len(items)} notifications: {items[0]['sentence']}"
    context = {**_context(user, address, time_zone), "items": items}
    return _message(user, address, subject, "portfolio/email/notification", context)


def compose_digest(
    user,
    address: str,
    notifications: Sequence,
    *,
    total: int,
    frequency: str,
    since: dt.datetime,
    time_zone: str,
) -> dict:
    items = _items(notifications[:DIGEST_LIMIT])
    label = "daily" if frequency == DigestFrequency.DAILY else "weekly"
    subject = f"Your {label} digest: {total} unread notification{'s' if total != 1 else ''}"
    context = {
        **_context(user, address, time_zone),
        "items": items,
        "total": total,
        "more": max(total - len(items), 0),
        "label": label,
        "since": since,
    }
    return _message(user, address, subject, "portfolio/email/digest", context)


def _message(user, address: str, subject: str, template: str, context: dict) -> dict:
    subject = SUBJECT_PREFIX + " ".join(subject.split())
    if len(subject) > 300:
        subject = subject[:299] + "…"
    return {
        "to": address,
        "subject": subject,
        "body_text": render_to_string(f"{template}.txt", context),
        "body_html": render_to_string(f"{template}.html", context),
        "headers": {
            # RFC 2369 and RFC 8058: mail clients offer their own one-click unsubscribe button.
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    }
