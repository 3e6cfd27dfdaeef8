"""Prioritization: the RICE and WSJF formulas (pure functions), the ranked list, and saving a product's scores.

RICE = reach x impact x (confidence / 100) / effort        (reach per quarter, effort in person-months)
WSJF = (business value + time criticality + risk reduction) / job size

Both are rounded half-up to two decimals. Inputs are validated against the ranges in ``RANGES``; a value
outside raises ``ScoreInvalid`` with one readable message per field, and nothing is saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import F, QuerySet

from portfolio.models import PriorityScore
from products.models import Product, User

CENT = Decimal("0.01")
IMPACT_CHOICES = (Decimal("0.25"), Decimal("0.5"), Decimal("1"), Decimal("2"), Decimal("3"))
IMPACT_LABELS = {
    Decimal("0.25"): "minimal",
    Decimal("0.5"): "low",
    Decimal("1"): "medium",
    Decimal("2"): "high",
    Decimal("3"): "massive",
}
# The modified Fibonacci scale of SAFe's WSJF estimates.
FIBONACCI = (1, 2, 3, 5, 8, 13, 20)
RICE_FIELDS = ("reach", "impact", "confidence", "effort")
WSJF_FIELDS = ("business_value", "time_criticality", "risk_reduction", "job_size")
SCORE_FIELDS = RICE_FIELDS + WSJF_FIELDS
RANGES = {
    "reach": "a whole number from 0 to 100,000,000 (people or events per quarter)",
    "impact": "one of 0.25, 0.5, 1, 2, 3",
    "confidence": "a whole percentage from 0 to 100",
    "effort": "person-months, more than 0 and at most 10,000",
    "business_value": "one of 1, 2, 3, 5, 8, 13, 20",
    "time_criticality": "one of 1, 2, 3, 5, 8, 13, 20",
    "risk_reduction": "one of 1, 2, 3, 5, 8, 13, 20",
    "job_size": "one of 1, 2, 3, 5, 8, 13, 20",
}
MAX_REACH = 100_000_000
MAX_EFFORT = Decimal("10000")


class ScoreInvalid(ValueError):
    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {problem}" for field, problem in problems.items()))
        self.problems = problems


def rice_score(*, reach: int, impact: Decimal, confidence: int, effort: Decimal) -> Decimal:
    """Reach x impact x confidence% / effort, to the cent. Effort must be positive."""
    value = Decimal(reach) * Decimal(impact) * Decimal(confidence) / Decimal(100) / Decimal(effort)
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def wsjf_score(*, business_value: int, time_criticality: int, risk_reduction: int, job_size: int) -> Decimal:
    """Cost of delay (business value + time criticality + risk reduction) over job size, to the cent."""
    cost_of_delay = Decimal(business_value + time_criticality + risk_reduction)
    return (cost_of_delay / Decimal(job_size)).quantize(CENT, rounding=ROUND_HALF_UP)


def validate_scores(values: dict[str, object]) -> dict[str, object]:
    """The eight inputs checked against ``RANGES`` and normalised (ints, Decimals); raises ``ScoreInvalid``."""
    problems: dict[str, str] = {}
    clean: dict[str, object] = {}
    for name in SCORE_FIELDS:
        raw = values.get(name)
        try:
            number = Decimal(str(raw).strip())
        except (ArithmeticError, ValueError):
            problems[name] = f"must be {RANGES[name]}"
            continue
        if not number.is_finite():
            problems[name] = f"must be {RANGES[name]}"
            continue
        if name == "impact":
            ok = number in IMPACT_CHOICES
            clean[name] = number.quantize(CENT)
        elif name == "effort":
            ok = Decimal(0) < number <= MAX_EFFORT
            clean[name] = number.quantize(CENT, rounding=ROUND_HALF_UP)
            ok = ok and clean[name] > 0
        elif name == "reach":
            ok = number == number.to_integral_value() and 0 <= number <= MAX_REACH
            clean[name] = int(number) if ok else None
        elif name == "confidence":
            ok = number == number.to_integral_value() and 0 <= number <= 100
            clean[name] = int(number) if ok else None
        else:
            ok = number == number.to_integral_value() and int(number) in FIBONACCI
            clean[name] = int(number) if ok else None
        if not ok:
            problems[name] = f"must be {RANGES[name]}"
    if problems:
        raise ScoreInvalid(problems)
    return clean


def scores_for(values: dict[str, object]) -> tuple[Decimal, Decimal]:
    """(RICE, WSJF) of validated inputs."""
    return (
        rice_score(**{name: values[name] for name in RICE_FIELDS}),
        wsjf_score(**{name: values[name] for name in WSJF_FIELDS}),
    )


@transaction.atomic
def priority_score_set(*, product: Product, values: dict[str, object], by: User | None) -> PriorityScore:
    """Create or replace a product's RICE and WSJF inputs; stores both scores. Raises ``ScoreInvalid``."""
    clean = validate_scores(values)
    rice, wsjf = scores_for(clean)
    score, _ = PriorityScore.objects.update_or_create(
        product=product, defaults={**clean, "rice": rice, "wsjf": wsjf, "updated_by": by}
    )
    return score


RANKINGS = {"rice": "RICE", "wsjf": "WSJF"}


@dataclass(frozen=True)
class RankedRow:
    rank: int
    score: PriorityScore

    @property
    def product(self) -> Product:
        return self.score.product


def ranked_scores(*, products: QuerySet[Product], by: str = "rice") -> QuerySet[PriorityScore]:
    """The scores of ``products``, best first by ``by`` (rice or wsjf), then by the other score and name."""
    other = "wsjf" if by == "rice" else "rice"
    return (
        PriorityScore.objects.filter(product__in=products.order_by().values("pk"))
        .select_related("product", "product__portfolio")
        .order_by(F(by).desc(), F(other).desc(), "product__name", "pk")
    )


def unscored_count(*, products: QuerySet[Product]) -> int:
    return products.order_by().filter(priority__isnull=True).count()
