"""The vocabulary every app shares: lifecycle stages, markets, focus areas, roles and health. Stored
values are contracts (URLs, CSV). Plain enumerations, so rules import them without the models;
``products.models`` re-exports them."""

from django.db import models


class Stage(models.TextChoices):
    """The seven lifecycle stages, in order. Stored values are contracts (URLs, CSV)."""

    PROBLEM = "problem", "Problem"
    OPPORTUNITY = "opportunity", "Opportunity"
    RESEARCH = "research", "Research"
    MVP = "mvp", "MVP"
    FEEDBACK = "feedback", "Feedback"
    STRATEGY = "strategy", "Strategy"
    EXECUTION = "execution", "Execution"

    @classmethod
    def ordered(cls) -> list["Stage"]:
        return list(cls)

    @property
    def position(self) -> int:
        return list(Stage).index(self)

    @property
    def activity(self) -> str:
        return STAGE_ACTIVITIES[self.value]


STAGE_ACTIVITIES = {
    "problem": "Defining the problem",
    "opportunity": "Quantifying the opportunity",
    "research": "Researching potential solutions",
    "mvp": "Building an MVP",
    "feedback": "Creating a feedback loop",
    "strategy": "Setting the strategy",
    "execution": "Driving execution",
}


class Market(models.TextChoices):
    B2B = "b2b", "B2B"
    B2C = "b2c", "B2C"


class Focus(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    BUSINESS = "business", "Business"
    ENGINEERING = "engineering", "Engineering / technology"
    DESIGN = "design", "Design"


class Role(models.TextChoices):
    """The product-management ladder. A person's role decides what they may see and do."""

    INTERN = "intern", "Intern"
    ASSOCIATE_PM = "associate_pm", "Associate PM"
    JUNIOR_PM = "junior_pm", "Junior PM"
    PM = "pm", "PM"
    SENIOR_PM = "senior_pm", "Senior PM"
    PRODUCT_OWNER = "product_owner", "Scrum product owner"
    DIRECTOR = "director", "Director of product"
    VP = "vp", "VP of product"


class Health(models.TextChoices):
    """A product's health: the worst status among its KPIs' latest values."""

    ON_TARGET = "on_target", "On target"
    AT_RISK = "at_risk", "At risk"
    OFF_TARGET = "off_target", "Off target"
    NO_DATA = "no_data", "No data"
