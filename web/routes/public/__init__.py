"""The public site: no login. Home, the directory for foreign buyers, events, applying for membership."""

from fastapi import APIRouter

from web.routes.public import applications, directory, events, home

router = APIRouter()
router.include_router(home.router)
router.include_router(directory.router)
router.include_router(events.router)
router.include_router(applications.router)
