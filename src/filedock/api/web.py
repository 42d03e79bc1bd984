"""The browser app and the API docs, served by filedock itself so they work offline.

Every page, script, style and the Swagger UI / ReDoc bundles come from this process
(`filedock/web/`, vendored files with their licences in `web/vendor/`), and each page
carries a Content-Security-Policy that lets it load and connect to its own origin only:
nothing a page does can reach a CDN, and an injected script from elsewhere cannot run.

These routes are deliberately public: they serve static files that hold no tenant data.
The data comes from the API routes the page's scripts call, each behind its principal.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
STATIC_PREFIX = "/ui"

# Only the origin. `data:` images are inline icons inside the Swagger UI stylesheet;
# `blob:` workers are ReDoc's search index, built from a script of this same origin.
_ORIGIN_ONLY = [
    "default-src 'self'",
    "script-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
]
APP_CSP = "; ".join([*_ORIGIN_ONLY, "style-src 'self'"])
# Swagger UI and ReDoc (styled-components) write <style> elements at run time, so their
# pages also allow inline styles; scripts and every fetch stay origin-only.
DOCS_CSP = "; ".join([*_ORIGIN_ONLY, "style-src 'self' 'unsafe-inline'"])
# page path -> (file in web/, its CSP)
PAGES = {
    "/": ("index.html", APP_CSP),
    "/admin": ("admin.html", APP_CSP),
    "/docs": ("docs.html", DOCS_CSP),
    "/redoc": ("redoc.html", DOCS_CSP),
}

router = APIRouter(include_in_schema=False)


def _add_page(path: str, filename: str, csp: str) -> None:
    headers = {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }

    async def page() -> FileResponse:
        return FileResponse(WEB_DIR / filename, media_type="text/html", headers=headers)

    router.add_api_route(path, page, methods=["GET"], name=f"page:{filename}")


for _path, (_file, _csp) in PAGES.items():
    _add_page(_path, _file, _csp)


def install(app: FastAPI) -> None:
    """Serve the app and offline docs; drop FastAPI's own docs pages, which load their
    scripts from a CDN (FastAPI adds them in its constructor, before any router)."""
    own_docs = {app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url} - {None}
    app.router.routes[:] = [
        route for route in app.router.routes if getattr(route, "path", None) not in own_docs
    ]
    app.include_router(router)
    app.mount(STATIC_PREFIX, StaticFiles(directory=WEB_DIR), name="web")
