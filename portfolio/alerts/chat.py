"""Chat messages, the parts that need no database: one batch of events as a Slack or Microsoft Teams message.

Slack's incoming webhooks take ``{"text": …}`` in its mrkdwn (links as ``<url|text>``); Teams' Workflows
webhooks ("When a Teams webhook request is received") take a message with one Adaptive Card.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.urls import reverse

from portfolio.alerts.catalogue import KINDS, SUMMARY_AFTER, Event, summary_sentence
from portfolio.alerts.mail import absolute

SLACK, TEAMS = "slack", "teams"


def lines_of(events: Sequence[Event]) -> list[tuple[str, str]]:
    """(sentence, absolute link) per line: each event, or one summary per kind beyond ``SUMMARY_AFTER``."""
    by_kind: dict[str, list[Event]] = {}
    for event in events:
        by_kind.setdefault(event.kind, []).append(event)
    lines = []
    for kind, batch in by_kind.items():
        if len(batch) > SUMMARY_AFTER:
            lines.append((summary_sentence(kind, batch), absolute(reverse(KINDS[kind].summary_url))))
        else:
            lines.extend((event.sentence, absolute(event.url)) for event in batch)
    return lines


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def message(service: str, lines: list[tuple[str, str]]) -> tuple[str, dict]:
    """(the text as it reads, the payload to post) for ``lines``."""
    text = "\n".join(f"{sentence} {url}" for sentence, url in lines)
    if service == SLACK:
        body = "\n".join(f"• <{url}|{_slack_escape(sentence)}>" for sentence, url in lines)
        return text, {"text": body, "unfurl_links": False}
    card = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": f"[{sentence}]({url})", "wrap": True} for sentence, url in lines
        ],
    }
    payload = {
        "type": "message",
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
    }
    return text, payload
