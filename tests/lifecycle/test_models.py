import pytest
from django.db import IntegrityError

from tests.factories import StageTransitionFactory


@pytest.mark.django_db
def test_a_transition_must_change_the_stage():
    with pytest.raises(IntegrityError):
        StageTransitionFactory(from_stage="mvp", to_stage="mvp")


@pytest.mark.django_db
@pytest.mark.parametrize(("from_stage", "to_stage"), [("", "launch"), ("beta", "mvp")])
def test_transitions_only_name_real_stages(from_stage, to_stage):
    with pytest.raises(IntegrityError):
        StageTransitionFactory(from_stage=from_stage, to_stage=to_stage)


@pytest.mark.django_db
def test_moving_back_is_recognised():
    assert StageTransitionFactory(from_stage="feedback", to_stage="research").is_backward
    assert not StageTransitionFactory(from_stage="research", to_stage="mvp").is_backward
    assert not StageTransitionFactory(from_stage="", to_stage="problem").is_backward
