"""Domain signals sent by the products app; the portfolio app connects them in its AppConfig.ready()."""

from django.dispatch import Signal

# Sent inside the transaction after a product's rollup scope changed;
# kwargs: product_id, changes = {scope: (old key, new key)}.
product_scope_changed = Signal()
