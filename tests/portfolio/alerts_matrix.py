"""The inbox's and the follow buttons' rows of the permission matrix (tests/test_permission_matrix.py).

Everyone signed in has an inbox and may follow or mute any product or portfolio they can see (all of them).
``fill`` gives every person of the world one unread notification before "mark all read" is posted, so an
allowed POST visibly writes; ``state`` is what a POST here could change.
"""

from __future__ import annotations

from portfolio.alerts.mail import unsubscribe_token
from portfolio.choices import EventKind
from portfolio.models import AlertSettings, Follow, Notification
from products.models import User


def entries(m) -> dict:
    return {
        "portfolio:inbox": m.Entry(
            get=m.everyone(200),
            post=m.everyone(405),
            gets=[m.Request(), m.Request(htmx_target="inbox-list"), m.Request(query="kind=nonsense&page=x")],
        ),
        "portfolio:inbox-bell": m.Entry(get=m.everyone(200), post=m.everyone(405)),
        "portfolio:inbox-read": m.Entry(
            get=m.everyone(405),
            post=m.everyone(m.REDIRECT),
            posts=[m.Request(data={"all": "on"})],
            changes_on_post=True,
        ),
        "portfolio:follow-product": m.Entry(
            get=m.everyone(405),
            post=m.everyone(m.REDIRECT),
            posts=[m.Request(data={"mode": "mute"})],
            changes_on_post=True,
        ),
        # Everyone signed in has their own settings; a POST changes only their own.
        "portfolio:alert-settings": m.Entry(
            get=m.everyone(200),
            post=m.everyone(m.REDIRECT),
            posts=[
                m.Request(data={"email_enabled": "on", "digest": "weekly", "mode_stage_moved": "immediate"})
            ],
            changes_on_post=True,
        ),
        # The one-click unsubscribe needs no session: the signed token (here the owner's) is the credential.
        "portfolio:unsubscribe": m.Entry(
            get=m.everyone(200, anonymous=200),
            post=m.everyone(m.REDIRECT, anonymous=m.REDIRECT),
            changes_on_post=True,
        ),
        "portfolio:follow-kpi": m.Entry(
            get=m.everyone(405),
            post=m.everyone(m.REDIRECT),
            posts=[m.Request(data={"mode": "follow"})],
            changes_on_post=True,
        ),
        "portfolio:follow-portfolio": m.Entry(
            get=m.everyone(405),
            post=m.everyone(m.REDIRECT),
            posts=[m.Request(data={"mode": "follow"})],
            changes_on_post=True,
        ),
    }


def fill(route: str, world) -> str:
    if route == "/inbox/read/":
        Notification.objects.bulk_create(
            Notification(
                recipient=user,
                kind=EventKind.STAGE_MOVED,
                sentence="Something moved.",
                url="/",
                why="A test.",
                key="matrix",
            )
            for user in User.objects.all()
        )
    if "<str:token>" in route:
        owner = world.product.owner
        return route.replace("<str:token>", unsubscribe_token(owner.pk, owner.email))
    if route.startswith("/follow/kpi/"):
        return route.replace("<int:pk>", str(world.kpi.pk))
    if route.startswith("/follow/portfolio/"):
        return route.replace("<int:pk>", str(world.product.portfolio_id))
    return route


def state() -> tuple:
    return (
        list(Notification.objects.order_by("pk").values_list("recipient_id", "read_at")),
        list(
            Follow.objects.order_by("pk").values_list(
                "user_id", "product_id", "portfolio_id", "kpi_id", "muted"
            )
        ),
        list(AlertSettings.objects.order_by("pk").values_list("user_id", "email_enabled", "digest", "modes")),
    )
