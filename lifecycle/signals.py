"""Domain signals: how the lifecycle tells higher apps that something they derive has changed."""

from django.dispatch import Signal

# Sent after a product's stage changed (inside the transaction);
# kwargs: product_id, changes = {"stage": (old stage, new stage)}.
stage_changed = Signal()
