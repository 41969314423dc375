"""Static files, all served by the web client itself (nothing from the internet at run time): its own CSS and
JavaScript (web/static/) and the third-party files npm installs at the versions package-lock.json pins."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

HERE = Path(__file__).resolve().parent
STATIC_PREFIX = "/static/"
NODE_MODULES = HERE / "node_modules"
# The address a page uses -> the file in node_modules (./filiera runs `npm ci` in web/).
VENDORED = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "pico.min.css": "@picocss/pico/css/pico.min.css",
}
CACHE = "public, max-age=86400"


def vendored_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/static/vendor/{name}")
    async def vendored(name: str) -> FileResponse:
        if name not in VENDORED:
            raise HTTPException(404, "no such file")
        path = NODE_MODULES / VENDORED[name]
        if not path.exists():
            raise HTTPException(404, f"{VENDORED[name]} is not installed: run ./filiera (npm ci in web/)")
        return FileResponse(path, headers={"Cache-Control": CACHE})

    return router


def own_files() -> StaticFiles:
    return StaticFiles(directory=HERE / "static")
