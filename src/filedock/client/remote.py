"""Files and uploads on the server, for `filedock ls/info/rm/mv/share/uploads/usage`.

Each function is one request of the native API; errors arrive as ClientError with the
server's code, so scripts embedding the client can tell `file_not_found` from
`insufficient_scope` without parsing messages.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from filedock.client.http import Api, ClientError

PAGE = 1000  # the server's largest page


def _file_url(api: Api, ref: str) -> str:
    """A file's URL from its id, or from its path (`/videos/a.mp4`) looked up first."""
    if ref.startswith("/"):
        ref = api.json("GET", "/api/v1/files/by-path", params={"path": ref})["id"]
    return f"/api/v1/files/{quote(ref, safe='')}"


def list_files(api: Api, prefix: str | None = None, limit: int = 100) -> tuple[list[Any], int]:
    """Up to `limit` files, newest first, and how many match in all."""
    items: list[Any] = []
    total = 0
    while len(items) < limit:
        params: dict[str, Any] = {"limit": min(PAGE, limit - len(items)), "offset": len(items)}
        if prefix:
            params["prefix"] = prefix
        page = api.json("GET", "/api/v1/files", params=params)
        items += page["items"]
        total = page["total"]
        if not page["items"] or len(items) >= total:
            break
    return items, total


def file_info(api: Api, file_id: str) -> dict[str, Any]:
    return api.json("GET", _file_url(api, file_id))


def delete_file(api: Api, file_id: str) -> None:
    api.request("DELETE", _file_url(api, file_id))


def rename_file(api: Api, file_id: str, name: str) -> dict[str, Any]:
    """A new name, or a new path (and the name it ends with) when `name` starts with /."""
    body = {"path": name} if name.startswith("/") else {"name": name}
    return api.json("PATCH", _file_url(api, file_id), json=body)


def create_share(
    api: Api, file_id: str, expires: str, max_downloads: int | None = None
) -> dict[str, Any]:
    """A share link; its `url` (which holds the token) is shown by the server only now."""
    body: dict[str, Any] = {"expires_in": expires}
    if max_downloads is not None:
        body["max_downloads"] = max_downloads
    return api.json("POST", _file_url(api, file_id) + "/shares", json=body)


def unfinished_uploads(api: Api) -> list[Any]:
    items: list[Any] = api.json("GET", "/api/v1/uploads")["items"]
    return items


def usage(api: Api) -> dict[str, Any] | None:
    """The tenant's usage and limits, or None from a server without the route."""
    try:
        return api.json("GET", "/api/v1/usage")
    except ClientError as exc:
        if exc.status == 404 and exc.code == "not_found":
            return None
        raise
