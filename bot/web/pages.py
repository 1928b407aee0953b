"""Server-rendered asset pages: search results and one device's card, escaped throughout."""

from collections.abc import Sequence
from html import escape
from urllib.parse import quote
from zoneinfo import ZoneInfo

from bot.i18n import Translator
from bot.models import Asset
from bot.services.assets import AssetCard

_HEAD = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><link rel="stylesheet" href="/static/dashboard.css"></head>
<body class="page"><header><a href="/dashboard?t={token}">{home}</a>
<form action="/assets" method="get"><input type="hidden" name="t" value="{token}">
<input name="q" value="{query}" placeholder="{search}" autofocus>
<button>{find}</button></form></header><main>"""
_FOOT = "</main></body></html>"


def _head(t: Translator, title: str, token: str, query: str = "") -> str:
    return _HEAD.format(
        lang=escape(t.tag),
        title=escape(title),
        token=escape(token),
        home=escape(t("dashboard.title")),
        query=escape(query),
        search=escape(t("dashboard.asset_search")),
        find=escape(t("dashboard.find")),
    )


def _link(asset: Asset, token: str) -> str:
    return f"/assets/{quote(asset.code)}?t={quote(token)}"


def assets_page(t: Translator, query: str, found: Sequence[Asset], token: str) -> str:
    rows = "".join(
        f'<tr><td><a href="{escape(_link(a, token))}">{escape(a.code)}</a></td>'
        f"<td>{escape(a.type)}</td><td>{escape(a.model)}</td>"
        f"<td>{escape(a.department.name)}</td><td>{escape(t.word(a.status))}</td></tr>"
        for a in found
    )
    body = (
        f"<table><tbody>{rows}</tbody></table>"
        if found
        else f"<p>{escape(t('dashboard.no_assets'))}</p>"
    )
    return _head(t, t("dashboard.assets"), token, query) + body + _FOOT


def asset_page(t: Translator, card: AssetCard, token: str, zone: ZoneInfo) -> str:
    asset = card.asset
    facts = [
        (t("dashboard.model"), f"{asset.type} · {asset.model}"),
        (t("dashboard.department"), asset.department.name),
        (t("dashboard.location"), asset.location or "-"),
        (t("dashboard.status"), t.word(asset.status)),
        (t("dashboard.purchased"), t.day(asset.purchased_on) if asset.purchased_on else "-"),
        (t("dashboard.total_cost"), t.money(card.total_cost)),
        (
            t("dashboard.open_ticket"),
            f"#{card.open_ticket.number}" if card.open_ticket else "-",
        ),
    ]
    if card.loan is not None:
        facts.append((t("dashboard.loan"), f"{card.loan.department.name} #{card.loan.ticket_id}"))
    facts_html = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in facts)
    repairs = "".join(
        f"<tr><td>#{r.number}</td>"
        f"<td>{escape(t.day(r.opened.astimezone(zone).date()))}</td>"
        f"<td>{escape(t.word(r.status))}</td><td>{escape(r.description)}</td>"
        f"<td>{escape(r.resolution or '-')}</td><td>{escape(t.money(r.cost))}</td></tr>"
        for r in card.repairs
    )
    events = "".join(
        f"<tr><td>{escape(t.moment(e.at, zone))}</td>"
        f"<td>{escape(t.word(e.from_status))} → {escape(t.word(e.to_status))}</td>"
        f"<td>{escape(e.reason or '-')}</td></tr>"
        for e in card.events
    )
    body = (
        f'<h1 id="asset-code">{escape(asset.code)}</h1>'
        f"<table class='facts'><tbody>{facts_html}</tbody></table>"
        f"<h2>{escape(t('dashboard.history'))}</h2>"
        f"<table><tbody>{repairs or '<tr><td>-</td></tr>'}</tbody></table>"
        f"<h2>{escape(t('dashboard.events'))}</h2>"
        f"<table><tbody>{events or '<tr><td>-</td></tr>'}</tbody></table>"
    )
    return _head(t, asset.code, token) + body + _FOOT
