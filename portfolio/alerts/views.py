"""The inbox (every notification of the signed-in person, filtered and paged), the top bar's bell (its unread
count, refreshed without a reload), marking read, and following or muting a product or portfolio.

Thin: reads are ``portfolio.alerts.selectors``, writes ``portfolio.alerts.services``. A person only ever sees
and changes their own notifications: every query is filtered by ``recipient=request.user``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from portfolio.alerts.forms import (
    AlertSettingsForm,
    FollowForm,
    InboxFilterForm,
    MarkReadForm,
    alert_settings_initial,
)
from portfolio.alerts.selectors import (
    INBOX_PAGE,
    alert_settings_of,
    email_modes,
    follow_mode,
    inbox,
    kinds_heard,
    unread_count,
    unsubscribed_person,
)
from portfolio.alerts.services import (
    alert_settings_save,
    email_unsubscribe,
    follow_set,
    notifications_mark_all_read,
    notifications_mark_read,
)
from portfolio.choices import EventKind
from portfolio.models import KPI, Portfolio
from products.permissions import access_product
from spm.web.pagination import paginate
from spm.web.regions import is_htmx, region_requested, render_region

INBOX = "portfolio/inbox.html"
SETTINGS = "portfolio/alert_settings.html"
UNSUBSCRIBE = "portfolio/unsubscribe.html"
INBOX_REGIONS = ("inbox-list",)
BELL = "portfolio/includes/bell.html"
FOLLOW = "portfolio/includes/follow.html"
CHANGED = "inbox-changed"  # the event the bell listens for


def _inbox_context(request: HttpRequest, form: InboxFilterForm) -> dict:
    values = form.values()
    notifications = inbox(request.user, kind=values["kind"], unread=values["unread"])
    page = paginate(notifications, page=values["page"], per_page=INBOX_PAGE)
    return {
        "form": form,
        "values": values,
        "page": page,
        "kinds": EventKind.choices,
        "unread_count": unread_count(request.user),
    }


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def inbox_page(request: HttpRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET)
    region = region_requested(request, INBOX_REGIONS)
    return render_region(request, INBOX, region, _inbox_context(request, form))


@require_GET
def inbox_bell(request: HttpRequest) -> HttpResponse:
    """The bell alone (HTMX polls it, and refetches it when the inbox changes)."""
    return render(request, BELL, {"unread_count": unread_count(request.user), "loaded": True})


@require_POST
def inbox_read(request: HttpRequest) -> HttpResponse:
    form = MarkReadForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(" ".join(form.errors.get("__all__", ["Nothing to mark read."])))
    if form.cleaned_data["all"]:
        count = notifications_mark_all_read(user=request.user)
        message = (
            f"Marked {count} notification{'s' if count != 1 else ''} read." if count else "Nothing unread."
        )
    else:
        count = notifications_mark_read(user=request.user, ids=[form.cleaned_data["id"]])
        message = "Marked read." if count else "That notification was already read."
    if is_htmx(request):
        filters = InboxFilterForm(request.GET)
        response = render_region(request, INBOX, "inbox-list", _inbox_context(request, filters))
        response["HX-Trigger"] = CHANGED
        return response
    messages.success(request, message)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("portfolio:inbox")
    return redirect(back)


@require_POST
def follow_product(request: HttpRequest, slug: str) -> HttpResponse:
    product = access_product(request.user, slug, action="view")
    return _follow(request, product, product.get_absolute_url())


@require_POST
def follow_kpi(request: HttpRequest, pk: int) -> HttpResponse:
    kpi = get_object_or_404(KPI, pk=pk)
    return _follow(request, kpi, reverse("portfolio:kpis"))


@require_POST
def follow_portfolio(request: HttpRequest, pk: int) -> HttpResponse:
    portfolio = get_object_or_404(Portfolio, pk=pk)
    return _follow(request, portfolio, portfolio.get_absolute_url())


def _follow(request: HttpRequest, thing, back: str) -> HttpResponse:
    form = FollowForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(" ".join(error for errors in form.errors.values() for error in errors))
    follow_set(user=request.user, thing=thing, mode=form.cleaned_data["mode"])
    context = {
        "thing": thing,
        "mode": follow_mode(request.user, thing),
        "follow_url": request.path,
        "follow_id": form.cleaned_data["follow_id"],
        "compact": form.cleaned_data["compact"],
    }
    if is_htmx(request):
        return render(request, FOLLOW, context)
    messages.success(request, FOLLOW_SAID[context["mode"]].format(thing=thing))
    return redirect(back)


FOLLOW_SAID = {
    "follow": "You follow {thing}: you hear about it as its owner does.",
    "mute": "You muted {thing}: you hear nothing about it.",
    "default": "You hear about {thing} as your role decides.",
}


@require_http_methods(["GET", "POST"])
def alert_settings(request: HttpRequest) -> HttpResponse:
    """How the signed-in person hears beyond the inbox. A refused form keeps every input and says why."""
    prefs = alert_settings_of(request.user)
    kinds = kinds_heard(request.user)
    if request.method == "POST":
        form = AlertSettingsForm(request.POST, kinds=kinds)
        if form.is_valid():
            alert_settings_save(user=request.user, values=form.cleaned_data)
            messages.success(request, "Saved: this is how you hear from now on.")
            return redirect("portfolio:alert-settings")
    else:
        initial = alert_settings_initial(prefs, {k: m for k, m in email_modes(prefs).items() if k in kinds})
        form = AlertSettingsForm(initial=initial, kinds=kinds)
    # A refused form is the page again (200, as the product forms), its errors beside their fields.
    return render(request, SETTINGS, {"form": form, "address": request.user.email, "prefs": prefs})


@login_not_required
@csrf_exempt  # the signed token is the credential; RFC 8058's one-click POST comes from a mail client
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (a link scanner that follows links unsubscribes nobody), or says it is done; POST unsubscribes,
    signed in or not, and comes back here."""
    if request.method == "POST":
        if email_unsubscribe(token) is None:
            return render(request, UNSUBSCRIBE, {"state": "invalid"}, status=400)
        return redirect("portfolio:unsubscribe", token=token)
    person = unsubscribed_person(token)
    if person is None:
        return render(request, UNSUBSCRIBE, {"state": "invalid"}, status=400)
    user, done = person
    return render(
        request, UNSUBSCRIBE, {"state": "done" if done else "ask", "token": token, "address": user.email}
    )
