"""Django admin access for staff who are not superusers: one group per rung, with model permissions.

Who may open which admin page comes from these groups (Django's model permissions); which rows a staff member
may then change comes from ``products.permissions`` (``spm.admin_tools.permissions``). ``role_groups_sync``
writes the groups and ``role_groups_assign`` puts people in the group of their role; the demo seed calls both,
and an admin who makes someone staff adds them to their group (docs/permissions.md).

Models are named by their app label and model name, so this bottom app imports no higher one.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

from products.choices import Role
from products.models import User

VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"
ALL = (VIEW, ADD, CHANGE, DELETE)

#: Everything but people: the user admin (which grants staff and superuser status) is for superusers only.
DOMAIN_MODELS = (
    "products.product",
    "products.membership",
    "portfolio.portfolio",
    "portfolio.objective",
    "portfolio.kpi",
    "portfolio.kpitarget",
    "portfolio.measurement",
    "portfolio.rollup",
    "lifecycle.stagetransition",
    "lifecycle.stagethreshold",
)
#: A product's lifecycle work products (docs/lifecycle.md): changed by the people who edit the product.
LIFECYCLE_WORK_MODELS = tuple(
    f"lifecycle.{model}"
    for model in (
        "problemstatement",
        "painpoint",
        "persona",
        "competitor",
        "evidencelink",
        "opportunitycase",
        "goal",
        "hypothesis",
        "experiment",
        "researchnote",
        "mvpplan",
        "successcriterion",
        "feedbacktheme",
        "feedbackitem",
        "strategybrief",
        "roadmapitem",
        "release",
        "milestone",
    )
)

LEADERSHIP_GROUP = "VPs of product"
DIRECTOR_GROUP = "Directors of product"
PM_GROUP = "Product managers"

#: Group name -> {"app_label.model": actions}. A model left out is not in that group's admin at all.
ROLE_GROUP_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    # VPs edit everything (rollups are computed, never edited: the admin itself refuses their change).
    LEADERSHIP_GROUP: dict.fromkeys(DOMAIN_MODELS + LIFECYCLE_WORK_MODELS, ALL),
    # Directors edit products, objectives and KPI targets; ``spm.admin_tools.permissions`` narrows the rows they
    # may change to the portfolios they direct. They read the rest.
    DIRECTOR_GROUP: {
        **dict.fromkeys(DOMAIN_MODELS, (VIEW,)),
        "products.product": (VIEW, CHANGE),
        "products.membership": ALL,
        "portfolio.objective": ALL,
        "portfolio.kpitarget": ALL,
        **dict.fromkeys(LIFECYCLE_WORK_MODELS, ALL),
    },
    # PM-level people read KPI data and the lifecycle. Products and portfolios carry money, which they may see
    # only on their own products: those they read in the app, not in the admin.
    PM_GROUP: dict.fromkeys(
        ("portfolio.objective", "portfolio.kpi", "portfolio.measurement", "lifecycle.stagetransition"),
        (VIEW,),
    ),
}

# Strategy (docs/strategy.md): leadership edits key results, budget lines, alignments and scores (the rows narrowed
# by ``portfolio.strategy.permissions``); scenarios and the plan history are read here and changed only on their pages.
STRATEGY_MODELS = {
    "portfolio.keyresult": ALL,
    "portfolio.budgetline": ALL,
    "portfolio.alignment": ALL,
    "portfolio.priorityscore": ALL,
    "portfolio.scenario": (VIEW,),
    "portfolio.planchange": (VIEW,),
}
ROLE_GROUP_PERMISSIONS[LEADERSHIP_GROUP].update(STRATEGY_MODELS)
ROLE_GROUP_PERMISSIONS[DIRECTOR_GROUP].update(STRATEGY_MODELS)

#: A person's role -> their admin group. Intern, associate PM and junior PM have none: no admin at all.
ROLE_GROUPS: dict[str, str] = {
    Role.VP: LEADERSHIP_GROUP,
    Role.DIRECTOR: DIRECTOR_GROUP,
    Role.PM: PM_GROUP,
    Role.SENIOR_PM: PM_GROUP,
    Role.PRODUCT_OWNER: PM_GROUP,
}

#: Roles the demo seed makes staff: the ones whose work (objectives, KPI targets) has no page outside the admin.
STAFF_ROLES = frozenset({Role.VP, Role.DIRECTOR})


def _permissions(grants: dict[str, tuple[str, ...]]) -> list[Permission]:
    wanted = Q(pk__in=[])
    for label, actions in grants.items():
        app_label, model = label.split(".")
        wanted |= Q(
            content_type__app_label=app_label,
            content_type__model=model,
            codename__in=[f"{action}_{model}" for action in actions],
        )
    return list(Permission.objects.filter(wanted))


@transaction.atomic
def role_groups_sync() -> dict[str, Group]:
    """Create or update the role groups so they hold exactly ``ROLE_GROUP_PERMISSIONS``. Idempotent."""
    groups = {}
    for name, grants in ROLE_GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(_permissions(grants))
        groups[name] = group
    return groups


def role_groups_assign(*, users: Iterable[User]) -> None:
    """Put each person in their role's group (and no other role group), in a few queries; superusers need none."""
    groups = role_groups_sync()
    users = list(users)
    membership = User.groups.through
    membership.objects.filter(user__in=users, group__in=groups.values()).delete()
    membership.objects.bulk_create(
        membership(user_id=user.pk, group_id=groups[ROLE_GROUPS[user.role]].pk)
        for user in users
        if user.role in ROLE_GROUPS and not user.is_superuser
    )
