"""My preferences: what I am told of, by email and in the inbox, at once or in a daily or weekly digest, on one
page: one choice per category and channel (off, at once, daily, weekly). Membership administration is always on."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web.dependencies import PagesDep
from web.gateway import ApiError
from web.routes.members_area import MemberApiDep, page_error

router = APIRouter()
OFF = "off"
CHOICES = (OFF, "instant", "daily", "weekly")


def choice_of(preference: dict[str, Any]) -> str:
    return str(preference["frequency"]) if preference.get("enabled") else OFF


def field_name(preference: dict[str, Any]) -> str:
    return f"{preference['category']}.{preference['channel']}"


def changes(current: list[dict[str, Any]], form: dict[str, str]) -> list[tuple[str, str, dict[str, Any]]]:
    """(category, channel, the API's PreferenceUpdate) for each choice the form changed; what is transactional,
    or not a known choice, is left as it is."""
    changed = []
    for preference in current:
        chosen = form.get(field_name(preference))
        if preference.get("transactional") or chosen not in CHOICES or chosen == choice_of(preference):
            continue
        update = {"enabled": False} if chosen == OFF else {"enabled": True, "frequency": chosen}
        changed.append((str(preference["category"]), str(preference["channel"]), update))
    return changed


def table_of(preferences: list[dict[str, Any]]) -> tuple[list[str], list[str], dict[tuple[str, str], dict[str, Any]]]:
    """Categories (rows) and channels (columns) in the API's order, and each cell's preference."""
    categories: list[str] = []
    channels: list[str] = []
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for preference in preferences:
        category, channel = str(preference["category"]), str(preference["channel"])
        categories += [category] if category not in categories else []
        channels += [channel] if channel not in channels else []
        cells[(category, channel)] = preference | {"choice": choice_of(preference), "field": field_name(preference)}
    return categories, channels, cells


@router.get("/preferences", response_class=HTMLResponse)
async def preferences(request: Request, pages: PagesDep, api: MemberApiDep, done: str = "") -> HTMLResponse:
    found = await api.subject("/notifications/preferences/me")
    categories, channels, cells = table_of(found)
    return pages.render(
        request,
        "members/preferences.html.j2",
        done=done,
        categories=categories,
        channels=channels,
        cells=cells,
        choices=CHOICES,
    )


@router.post("/preferences")
async def save_preferences(request: Request, api: MemberApiDep) -> Response:
    current = await api.subject("/notifications/preferences/me")
    sent = await request.form()
    form = {key: value for key, value in sent.items() if isinstance(value, str)}
    try:
        for category, channel, update in changes(current, form):
            await api.send("PUT", f"/notifications/preferences/me/{category}/{channel}", update)
    except ApiError as error:
        raise page_error(error) from error
    return RedirectResponse("/preferences?done=preferences_saved", status_code=303)
