"""Reads of the outbox that pages and monitoring share."""

from .models import Delivery


def pending_deliveries_count() -> int:
    """Deliveries still to be sent (due now or waiting for a retry): one count over the
    ``notif_delivery_pending_due`` partial index; ``baohe_notification_deliveries_pending`` in /metrics."""
    return Delivery.objects.filter(status=Delivery.Status.PENDING).count()
