"""The public site: no login. Home, the directory for foreign buyers, events, applying for membership."""

from fastapi import APIRouter

from web.routes.public import home

router = APIRouter()
router.include_router(home.router)
