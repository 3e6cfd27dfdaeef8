"""Writes: events become notifications; a person marks theirs read, follows or mutes a product or portfolio.

``events_notify`` is the one way a notification is made. It runs in the caller's transaction (one bulk insert), so a stage move
and its notifications commit (or roll back) together. A batch is grouped per person and kind: more than
``SUMMARY_AFTER`` events of one kind become one summary, so an import or a full recompute notifies each person
once, not once per row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import urllib.request
from collections import defaultdict
from collections.abc import Iterable
from urllib.parse import urlencode

from celery import current_app
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from portfolio.alerts import chat
from portfolio.alerts import mail as compose
from portfolio.alerts.catalogue import KINDS, SUMMARY_AFTER, Audience, Event, summary_sentence, truncate
from portfolio.alerts.selectors import (
    alert_settings_of,
    email_mode,
    follow_target,
    keys_reported,
    kpi_cells_worse,
    product_forecast_misses,
    products_stuck,
    recipients,
    roadmap_late,
    unsubscribed_person,
)
from portfolio.choices import DigestFrequency, EmailMode, EventKind, Frequency, Grain, Scope, Status
from portfolio.models import (
    AlertSettings,
    ChatDelivery,
    ChatWebhook,
    Follow,
    Notification,
    OutboxEmail,
    Portfolio,
    ReportedEvent,
)
from portfolio.periods import quarter_label
from products.choices import Health
from products.models import Product, User
from spm.web.figures import kpi_number

STUCK_SCAN_BATCH = 2000


def events_notify(events: Iterable[Event], *, now: dt.datetime | None = None) -> int:
    """Notify everyone who hears about ``events`` (``selectors.recipients``); returns how many notifications
    were offered. One a person already has (same event key) is skipped by the database, not written twice."""
    events = list({event.key: event for event in events}.values())
    if not events:
        return 0
    now = now or timezone.now()
    heard_by = recipients(events)
    per_person: dict[tuple[int, str], list[tuple[Event, str]]] = defaultdict(list)
    for event in events:
        for user, why in heard_by[event.key].items():
            per_person[user, event.kind].append((event, why))
    rows = []
    for (user, kind), heard in per_person.items():
        if len(heard) > SUMMARY_AFTER:
            batch = [event for event, _ in heard]
            digest = hashlib.sha256("\n".join(sorted(e.key for e in batch)).encode()).hexdigest()[:24]
            rows.append(
                Notification(
                    recipient_id=user,
                    kind=kind,
                    sentence=truncate(summary_sentence(kind, batch)),
                    url=reverse(KINDS[kind].summary_url),
                    why=truncate(_summary_why(heard), 200),
                    key=f"{kind}:summary:{digest}",
                    created_at=now,
                )
            )
            continue
        rows.extend(
            Notification(
                recipient_id=user,
                kind=kind,
                sentence=truncate(event.sentence),
                url=event.url,
                why=truncate(why, 200),
                product_id=event.product_id,
                portfolio_id=event.portfolio_id,
                key=event.key[:120],
                created_at=now,
            )
            for event, why in heard
        )
    mails = _mails_at_once(rows, now=now)
    Notification.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    if mails:
        OutboxEmail.objects.bulk_create(mails)
        transaction.on_commit(outbox_request_send, robust=True)
    deliveries = _chat_deliveries(events, now=now)
    if deliveries:
        ChatDelivery.objects.bulk_create(deliveries)
        transaction.on_commit(chat_request_send, robust=True)
    return len(rows)


def _summary_why(heard: list[tuple[Event, str]]) -> str:
    reasons = sorted({why for _, why in heard})
    return reasons[0] if len(reasons) == 1 else "You own, work on, direct or follow these."


# --------------------------------------------------------------------------------------------------
# The events the services and scans report (each builds its sentence and link where the facts are)
# --------------------------------------------------------------------------------------------------


def products_health_worse_notify(changes: list[tuple[Product, str, str]], *, now: dt.datetime) -> int:
    """``changes``: (product, health before, health now) for each product whose health got worse."""
    events = [
        Event(
            kind=EventKind.HEALTH_WORSE,
            sentence=f"{product.name} is now {Health(after).label} (was {Health(before).label}): "
            "at least one of its KPIs' latest values is worse.",
            url=product.get_absolute_url(),
            key=f"health:{product.pk}:{after}:{now.isoformat()}",
            product_id=product.pk,
            name=product.name,
        )
        for product, before, after in changes
    ]
    return events_notify(events, now=now)


def forecast_misses_notify(
    *, kpi_ids: Iterable[int] = (), product_ids: Iterable[int] = (), now: dt.datetime | None = None
) -> int:
    """After a recompute's forecasts: each product's KPI newly forecast to miss its quarter's target notifies once
    per quarter (a miss found again by the next recompute is not news; neither is one that recovered and fell
    back within the quarter). Returns the notifications written."""
    now = now or timezone.now()
    events = []
    for (
        product_id,
        name,
        slug,
        kpi_id,
        kpi_name,
        unit,
        period,
        value,
        target,
        chance,
    ) in product_forecast_misses(kpi_ids=kpi_ids, product_ids=product_ids):
        events.append(
            Event(
                kind=EventKind.FORECAST_MISS,
                sentence=f"{name}'s {kpi_name} is forecast to miss its {quarter_label(period)} target: "
                f"{kpi_number(value, unit)} against {kpi_number(target, unit)}, "
                f"a {chance:.0%} chance of making it.",
                url=reverse("products:detail", args=[slug]) + f"#trend-{kpi_id}",
                key=f"forecast_miss:{product_id}:{kpi_id}:{period.isoformat()}",
                product_id=product_id,
                kpi_id=kpi_id,
                name=f"{name} ({kpi_name})",
            )
        )
    return events_notify(events_first_reported(events), now=now)


LATE_LOOKBACK = dt.timedelta(days=30)


def roadmap_late_notify(*, today: dt.date | None = None) -> int:
    """The daily scan: each roadmap item, release or milestone newly late (its planned date passed, not
    finished) notifies its product's people once per planned date (moved and late again: news again). Only dates
    of the last 30 days: a first run does not dig up a year of old lateness."""
    today = today or timezone.localdate()
    events = [
        Event(
            kind=EventKind.ROADMAP_LATE,
            sentence=f"{product_name}'s {label} “{title}” is late: it was planned for {planned:%-d %b %Y}.",
            url=reverse("portfolio:roadmap") + f"?late=on&portfolio={portfolio}",
            key=f"late:{label.replace(' ', '_')}:{pk}:{planned.isoformat()}",
            product_id=product_id,
            name=f"{product_name}: {title}",
        )
        for label, pk, title, planned, product_id, product_name, portfolio in roadmap_late(
            today=today, since=today - LATE_LOOKBACK
        )
    ]
    return events_notify(events)


def _period_words(day: dt.date, frequency: str) -> str:
    if frequency == Frequency.MONTHLY:
        return f"in {day:%B %Y}"
    if frequency == Frequency.QUARTERLY:
        return f"in {quarter_label(day)}"
    return f"in the week of {day:%-d %b %Y}"


def kpi_cells_worse_notify(*, kpi_ids: Iterable[int] = (), now: dt.datetime | None = None) -> int:
    """After a recompute's rollups: each organisation or portfolio KPI cell whose status got worse (and held for
    ``SPM_ALERT_HOLD_PERIODS`` periods) tells that portfolio's leadership once per change."""
    now = now or timezone.now()
    cells = kpi_cells_worse(kpi_ids=kpi_ids, hold=settings.SPM_ALERT_HOLD_PERIODS)
    if not cells:
        return 0
    portfolios, names = {}, {}
    for slug, pk, name in Portfolio.objects.values_list("slug", "pk", "name"):
        portfolios[slug], names[slug] = pk, name
    events = []
    for cell in cells:
        organisation = cell.scope == Scope.ORGANISATION
        where = (
            "across the organisation"
            if organisation
            else f"in the {names.get(cell.scope_key, cell.scope_key)} portfolio"
        )
        against = f" against {kpi_number(cell.target, cell.unit)}" if cell.target is not None else ""
        query = urlencode(
            {
                "kpi": cell.kpi_id,
                "scope": cell.scope,
                "key": cell.scope_key,
                "grain": Grain.NATIVE,
                "period": cell.period,
            }
        )
        events.append(
            Event(
                kind=EventKind.KPI_WORSE,
                sentence=f"{cell.kpi_name} {where} is now {Status(cell.status).label} (was "
                f"{Status(cell.before).label}) {_period_words(cell.period, cell.frequency)}: "
                f"{kpi_number(cell.value, cell.unit)}{against}.",
                url=reverse("portfolio:rollup-cell") + f"?{query}",
                key=f"kpi_worse:{cell.kpi_id}:{cell.scope}:{cell.scope_key}:{cell.since.isoformat()}:{cell.status}"[
                    :120
                ],
                portfolio_id=None if organisation else portfolios.get(cell.scope_key),
                kpi_id=cell.kpi_id,
                name=f"{cell.kpi_name} ({'organisation' if organisation else names.get(cell.scope_key, '')})",
            )
        )
    return events_notify(events_first_reported(events), now=now)


def events_first_reported(events: list[Event]) -> list[Event]:
    """Only the events a recurring check has not reported before; they are remembered as reported."""
    seen = keys_reported(event.key for event in events)
    new = [event for event in events if event.key not in seen]
    ReportedEvent.objects.bulk_create(
        (ReportedEvent(key=event.key[:120]) for event in new), batch_size=2000, ignore_conflicts=True
    )
    return new


def products_stuck_notify(*, now: dt.datetime | None = None) -> int:
    """The periodic scan: each product past its stage's stuck threshold notifies once per stay in that stage
    (the key is the stay's start); returns the notifications written."""
    now = now or timezone.now()
    written = 0
    products = products_stuck(now=now).only("pk", "slug", "name", "stage", "stage_entered_at").order_by("pk")
    batch: list[Event] = []
    for product in products.iterator(chunk_size=STUCK_SCAN_BATCH):
        batch.append(
            Event(
                kind=EventKind.PRODUCT_STUCK,
                sentence=f"{product.name} has been in {product.get_stage_display()} for "
                f"{max((now - product.stage_entered_at).days, 0)} days, longer than the stage's threshold.",
                url=product.get_absolute_url(),
                key=f"stuck:{product.pk}:{product.stage}:{product.stage_entered_at.isoformat()}",
                product_id=product.pk,
                name=product.name,
            )
        )
        if len(batch) == STUCK_SCAN_BATCH:
            written += events_notify(batch, now=now)
            batch = []
    return written + events_notify(batch, now=now)


# --------------------------------------------------------------------------------------------------
# The inbox and what a person follows
# --------------------------------------------------------------------------------------------------


def notifications_mark_read(*, user: User, ids: Iterable[int], now: dt.datetime | None = None) -> int:
    """Mark some of ``user``'s own notifications read (another person's ids change nothing)."""
    return Notification.objects.filter(recipient=user, pk__in=list(ids), read_at__isnull=True).update(
        read_at=now or timezone.now()
    )


def notifications_mark_all_read(*, user: User, now: dt.datetime | None = None) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=now or timezone.now()
    )


FOLLOWING, MUTED, DEFAULT = "follow", "mute", "default"


@transaction.atomic
def follow_set(*, user: User, thing, mode: str) -> Follow | None:
    """Follow, mute, or go back to the defaults of one's roles (``DEFAULT``: no row) for a product, portfolio
    or KPI."""
    if mode not in (FOLLOWING, MUTED, DEFAULT):
        raise ValueError(f"Unknown follow mode {mode!r}.")
    target = follow_target(thing)
    if mode == DEFAULT:
        Follow.objects.filter(user=user, **target).delete()
        return None
    follow, _ = Follow.objects.update_or_create(user=user, **target, defaults={"muted": mode == MUTED})
    return follow


def stage_changed_notify(*, product_id: int, changes: dict, **kwargs) -> None:
    """The receiver of ``lifecycle.signals.stage_changed``: the move (and an overridden gate) as events, in the
    move's transaction."""
    from lifecycle.models import StageTransition
    from products.choices import Stage

    transition = (
        StageTransition.objects.filter(product_id=product_id)
        .select_related("product", "by")
        .order_by("-at", "-pk")
        .first()
    )
    if transition is None or "stage" not in changes:
        return
    product, by = transition.product, transition.by
    who = (by.get_full_name() or by.get_username()) if by else "Someone"
    before, after = (Stage(stage).label if stage else "" for stage in changes["stage"])
    events = [
        Event(
            kind=EventKind.STAGE_MOVED,
            sentence=f"{who} moved {product.name} from {before} to {after}."
            if before
            else f"{who} put {product.name} in {after}.",
            url=product.get_absolute_url(),
            key=f"transition:{transition.pk}",
            product_id=product.pk,
            actor_id=transition.by_id,
            name=product.name,
        )
    ]
    if transition.gate_overridden:
        events.append(
            Event(
                kind=EventKind.GATE_OVERRIDDEN,
                sentence=f"{who} overrode the gate into {after} for {product.name}, with "
                f"{len(transition.unmet_criteria)} criteria unmet: “{transition.override_reason}”",
                url=product.get_absolute_url(),
                key=f"override:{transition.pk}",
                product_id=product.pk,
                actor_id=transition.by_id,
                name=product.name,
            )
        )
    events_notify(events)


def scenario_notify(*, scenario, kind: str, by: User | None) -> int:
    """A scenario created (awaiting approval), approved or discarded."""
    who = (by.get_full_name() or by.get_username()) if by else "Someone"
    where = f"the {scenario.portfolio.name} portfolio" if scenario.portfolio_id else "the whole organisation"
    verb = {
        EventKind.SCENARIO_CREATED: "created the scenario",
        EventKind.SCENARIO_APPROVED: "approved the scenario",
        EventKind.SCENARIO_DISCARDED: "discarded the scenario",
    }[kind]
    tail = ": it awaits approval." if kind == EventKind.SCENARIO_CREATED else "."
    if kind == EventKind.SCENARIO_APPROVED:
        tail = ": it is now the live plan."
    event = Event(
        kind=kind,
        sentence=f"{who} {verb} “{scenario.name}” for {where}{tail}",
        url=scenario.get_absolute_url(),
        key=f"scenario:{scenario.pk}:{kind}",
        portfolio_id=scenario.portfolio_id,
        actor_id=by.pk if by else None,
        name=scenario.name,
    )
    return events_notify([event])


def import_run_notify(*, run) -> int:
    """A background import's step is over: tell the person who uploaded it (they may have left the page)."""
    from products.models import ImportStatus

    if run.uploaded_by_id is None:
        return 0
    failed = run.status in (ImportStatus.FAILED, ImportStatus.INVALID)
    outcome = run.get_status_display()
    if run.status == ImportStatus.INVALID:
        outcome = f"{run.error_count:,} problem{'s' if run.error_count != 1 else ''} found, nothing written"
    elif run.status == ImportStatus.APPLIED:
        outcome = f"applied: {run.created:,} created, {run.updated:,} updated, {run.unchanged:,} unchanged"
    elif run.status == ImportStatus.READY:
        outcome = f"checked, ready to apply ({run.rows_total:,} row{'s' if run.rows_total != 1 else ''})"
    event = Event(
        kind=EventKind.IMPORT_FAILED if failed else EventKind.IMPORT_FINISHED,
        sentence=f"Your import of {run.file_name} ({run.get_kind_display()}): {outcome}.",
        url=run.get_absolute_url(),
        key=f"import:{run.pk}:{run.step}:{run.status}",
        named=(run.uploaded_by_id,),
        name=run.file_name,
    )
    return events_notify([event])


# --------------------------------------------------------------------------------------------------
# Email: mail at once, digests, the outbox that sends them, a person's settings and the unsubscribe link
# --------------------------------------------------------------------------------------------------

OUTBOX_TASK = "portfolio.tasks.outbox_send"  # portfolio.alerts.tasks.outbox_send
OUTBOX_BATCH = 100
#: A failed send waits 1, 2, 4 … minutes, at most an hour, and is tried again: never dropped.
BACKOFF_MAX = dt.timedelta(hours=1)


def _mails_at_once(rows: list[Notification], *, now: dt.datetime) -> list[OutboxEmail]:
    """The mails for the new notifications of kinds their people want at once: one mail per person and batch,
    held until quiet hours end. A notification the person already had (an event reported twice) was mailed
    when it was new, so it is left out. Two queries, whatever the batch's size."""
    by_person: dict[int, list[Notification]] = defaultdict(list)
    for row in rows:
        by_person[row.recipient_id].append(row)
    people = (
        User.objects.filter(pk__in=by_person, is_active=True)
        .exclude(email="")
        .select_related("alert_settings")
    )
    wanted: list[tuple[User, AlertSettings, list[Notification]]] = []
    for person in people:
        prefs = alert_settings_of(person)
        mine = [row for row in by_person[person.pk] if email_mode(prefs, row.kind) == EmailMode.IMMEDIATE]
        if mine:
            wanted.append((person, prefs, mine))
    if not wanted:
        return []
    keys = {row.key for _, _, mine in wanted for row in mine}
    had = set(
        Notification.objects.filter(
            recipient__in=[person for person, _, _ in wanted], key__in=keys
        ).values_list("recipient_id", "key")
    )
    mails = []
    for person, prefs, mine in wanted:
        new = [row for row in mine if (person.pk, row.key) not in had]
        if not new:
            continue
        quiet = compose.quiet_ends(
            now, quiet_from=prefs.quiet_from, quiet_until=prefs.quiet_until, time_zone=prefs.time_zone
        )
        message = compose.compose_immediate(person, person.email, new, time_zone=prefs.time_zone)
        mails.append(
            OutboxEmail(
                recipient=person,
                kind=OutboxEmail.IMMEDIATE,
                created_at=now,
                send_after=quiet or now,
                **message,
            )
        )
    return mails


def outbox_request_send() -> None:
    """Ask a worker to send the outbox now (Celery beat also does every minute, so a refused request only
    waits for the next minute)."""
    current_app.tasks[OUTBOX_TASK].delay()


def _backoff(attempts: int) -> dt.timedelta:
    return min(dt.timedelta(minutes=2 ** min(attempts - 1, 10)), BACKOFF_MAX)


def outbox_send(*, now: dt.datetime | None = None, batch: int = OUTBOX_BATCH) -> tuple[int, int]:
    """Send every email that is due through the default mailer; returns (sent, failed). Rows are claimed with
    ``SKIP LOCKED`` (two workers never send one mail twice). A failed send records its error and waits for its
    backoff; a mailer that cannot connect fails the whole batch the same way."""
    sent = failed = 0
    while True:
        moment = now or timezone.now()
        with transaction.atomic():
            due = list(
                OutboxEmail.objects.select_for_update(skip_locked=True)
                .filter(sent_at__isnull=True, send_after__lte=moment)
                .order_by("send_after", "pk")[:batch]
            )
            if not due:
                break
            try:
                connection = mail.mailers.default
                connection.open()
            except Exception as error:
                for email in due:
                    _failed(email, error, moment)
                OutboxEmail.objects.bulk_update(due, ["attempts", "last_error", "send_after"])
                return sent, failed + len(due)
            try:
                for email in due:
                    message = mail.EmailMultiAlternatives(
                        subject=email.subject,
                        body=email.body_text,
                        to=[email.to],
                        headers=email.headers,
                        connection=connection,
                    )
                    message.attach_alternative(email.body_html, "text/html")
                    try:
                        message.send()
                    except Exception as error:
                        _failed(email, error, moment)
                        failed += 1
                    else:
                        _delivered(email, moment)
                        sent += 1
            finally:
                connection.close()
            OutboxEmail.objects.bulk_update(due, ["attempts", "last_error", "send_after", "sent_at"])
        if len(due) < batch:
            break
    return sent, failed


def _delivered(item: OutboxEmail | ChatDelivery, now: dt.datetime) -> None:
    item.sent_at, item.last_error = now, ""
    item.attempts += 1


def _failed(email: OutboxEmail | ChatDelivery, error: Exception, now: dt.datetime) -> None:
    email.attempts += 1
    email.last_error = f"{type(error).__name__}: {error}"[:2000]
    email.send_after = now + _backoff(email.attempts)


def outbox_retry_now(emails) -> int:
    """The admin's "send again now": unsent mails become due at once."""
    return emails.filter(sent_at__isnull=True).update(send_after=timezone.now())


def digests_send(*, now: dt.datetime | None = None) -> int:
    """Celery beat, hourly: queue each daily or weekly digest that is due at 08:00 in its person's time zone,
    listing their unread notifications of the kinds they want in a digest since the last one. Nothing unread,
    no mail (the slot still counts as done). Returns the digests queued."""
    now = now or timezone.now()
    recent = now - dt.timedelta(days=8)
    people = (
        User.objects.filter(is_active=True, notifications__created_at__gte=recent)
        .exclude(email="")
        .distinct()
        .select_related("alert_settings")
    )
    queued = 0
    for person in people.iterator(chunk_size=500):
        prefs = alert_settings_of(person)
        if not prefs.email_enabled or prefs.digest == DigestFrequency.NEVER:
            continue
        window = compose.digest_window(
            now, frequency=prefs.digest, time_zone=prefs.time_zone, last_sent=prefs.last_digest_at
        )
        if window is None:
            continue
        since, until = window
        kinds = [kind for kind in KINDS if email_mode(prefs, kind) == EmailMode.DIGEST]
        unread = Notification.objects.filter(
            recipient=person,
            kind__in=kinds,
            read_at__isnull=True,
            created_at__gt=since,
            created_at__lte=until,
        )
        items = list(unread.order_by("-created_at", "-pk")[: compose.DIGEST_LIMIT])
        with transaction.atomic():
            if items:
                total = len(items) if len(items) < compose.DIGEST_LIMIT else unread.count()
                message = compose.compose_digest(
                    person,
                    person.email,
                    items,
                    total=total,
                    frequency=prefs.digest,
                    since=since,
                    time_zone=prefs.time_zone,
                )
                OutboxEmail.objects.create(
                    recipient=person, kind=OutboxEmail.DIGEST, created_at=now, send_after=now, **message
                )
                queued += 1
            AlertSettings.objects.update_or_create(user=person, defaults={"last_digest_at": now})
    if queued:
        transaction.on_commit(outbox_request_send, robust=True)
    return queued


def alert_settings_save(*, user: User, values: dict) -> AlertSettings:
    """Save what the settings page chose: ``values`` as ``AlertSettingsForm.cleaned_data`` (already valid)."""
    prefs = alert_settings_of(user)
    for field in ("email_enabled", "digest", "time_zone", "quiet_from", "quiet_until"):
        setattr(prefs, field, values[field])
    chosen = {**(prefs.modes or {}), **{kind: mode for kind, mode in values["modes"].items() if mode}}
    prefs.modes = {kind: mode for kind, mode in chosen.items() if mode != KINDS[kind].email}
    prefs.full_clean(exclude=["user"])
    prefs.save()
    return prefs


def email_unsubscribe(token: str) -> User | None:
    """The one-click unsubscribe: no more email for the person and address the token was made for. Returns
    who was unsubscribed, or None when the token is not ours or the address has changed since."""
    person = unsubscribed_person(token)
    if person is None:
        return None
    user, _ = person
    AlertSettings.objects.update_or_create(user=user, defaults={"email_enabled": False})
    return user


# --------------------------------------------------------------------------------------------------
# Slack and Microsoft Teams: a portfolio's channel hears its events, one message per batch
# --------------------------------------------------------------------------------------------------

CHAT_TASK = "portfolio.tasks.chat_send"  # portfolio.alerts.tasks.chat_send
CHAT_TIMEOUT = 10


def _chat_hears(hook: ChatWebhook, event: Event, portfolio_of: dict[int, int]) -> bool:
    spec = KINDS[event.kind]
    if spec.audience == Audience.NAMED:
        return False  # about one person (their import): never to a channel
    if hook.kinds:
        if event.kind not in hook.kinds:
            return False
    elif spec.money or spec.product_money:
        return False  # budgets reach a channel only when its webhook names the kind
    if hook.portfolio_id is None:
        return True
    portfolio = portfolio_of.get(event.product_id) if event.product_id else event.portfolio_id
    return portfolio == hook.portfolio_id


def _chat_deliveries(events: list[Event], *, now: dt.datetime) -> list[ChatDelivery]:
    """One message per active webhook that hears some of ``events``, with only the events no channel was told
    of before (the daily scans report what they found again). One query when no webhook is configured."""
    webhooks = list(ChatWebhook.objects.filter(active=True))
    if not webhooks:
        return []
    product_ids = {event.product_id for event in events if event.product_id}
    portfolio_of = dict(Product.objects.filter(pk__in=product_ids).values_list("pk", "portfolio_id"))
    heard = {hook.pk: [e for e in events if _chat_hears(hook, e, portfolio_of)] for hook in webhooks}
    told = {event.key for batch in heard.values() for event in batch}
    if not told:
        return []
    new = {
        event.key.removeprefix("chat:")
        for event in events_first_reported(
            [
                Event(kind=e.kind, sentence="", url="", key=f"chat:{e.key}"[:120])
                for e in events
                if e.key in told
            ]
        )
    }
    deliveries = []
    for hook in webhooks:
        batch = [event for event in heard[hook.pk] if event.key in new]
        if batch:
            text, payload = chat.message(hook.service, chat.lines_of(batch))
            deliveries.append(
                ChatDelivery(webhook=hook, text=text, payload=payload, created_at=now, send_after=now)
            )
    return deliveries


def chat_request_send() -> None:
    current_app.tasks[CHAT_TASK].delay()


def chat_post(url: str, payload: dict) -> None:
    """POST ``payload`` as JSON; anything but a 2xx answer is an error (its status and first words)."""
    request = urllib.request.Request(  # noqa: S310 — https, or http to this machine (validate_webhook_url)
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "SPM-Dashboard"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=CHAT_TIMEOUT) as response:  # noqa: S310
        if not 200 <= response.status < 300:
            raise OSError(f"HTTP {response.status}: {response.read(200).decode(errors='replace')}")


def chat_send(*, now: dt.datetime | None = None, batch: int = OUTBOX_BATCH) -> tuple[int, int]:
    """Post every chat message that is due; returns (sent, failed). Claimed with ``SKIP LOCKED``; a failed post
    (the service down, a 4xx or 5xx, a timeout) records why and waits for its backoff, as the email outbox."""
    sent = failed = 0
    while True:
        moment = now or timezone.now()
        with transaction.atomic():
            due = list(
                ChatDelivery.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(sent_at__isnull=True, send_after__lte=moment)
                .select_related("webhook")
                .order_by("send_after", "pk")[:batch]
            )
            for delivery in due:
                try:
                    chat_post(delivery.webhook.url, delivery.payload)
                except Exception as error:
                    _failed(delivery, error, moment)
                    failed += 1
                else:
                    _delivered(delivery, moment)
                    sent += 1
            ChatDelivery.objects.bulk_update(due, ["attempts", "last_error", "send_after", "sent_at"])
        if len(due) < batch:
            break
    return sent, failed


def chat_retry_now(deliveries) -> int:
    return deliveries.filter(sent_at__isnull=True).update(send_after=timezone.now())


def chat_test_message(webhook: ChatWebhook) -> ChatDelivery:
    """The admin's "send a test message": queued like any other, so its log says whether it arrived."""
    text, payload = chat.message(
        webhook.service,
        [
            (
                f"SPM Dashboard will post {webhook.portfolio or 'every portfolio'}'s events here.",
                compose.absolute("/"),
            )
        ],
    )
    delivery = ChatDelivery.objects.create(webhook=webhook, text=text, payload=payload)
    transaction.on_commit(chat_request_send, robust=True)
    return delivery
