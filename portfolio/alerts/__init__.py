"""Notifications: the event catalogue, who hears about what, the inbox (docs/alerts.md)."""
