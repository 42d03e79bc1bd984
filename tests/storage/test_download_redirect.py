"""Downloads redirected to a presigned S3 URL keep the name and give the same bytes."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from filedock.app import create_app
from tests.helpers import upload_file
from tests.storage.conftest import storage_settings


@pytest.mark.parametrize("redirect", [True, False])
async def test_s3_downloads_redirect_to_a_presigned_url_when_configured(
    request: pytest.FixtureRequest, tmp_path: Path, redirect: bool
) -> None:
    settings = storage_settings("s3", request, tmp_path, download_redirect=redirect)
    app = create_app(settings)
    data = os.urandom(300_000)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://filedock.test") as c:
            record = await upload_file(c, data, filename="relevé été.bin")
            answer = await c.get(record["urls"]["content"])
    if not redirect:
        assert answer.status_code == 200 and answer.content == data
        return
    assert answer.status_code == 307
    target = answer.headers["location"]
    assert "Signature" in target  # a presigned S3 URL, not filedock's
    with httpx.Client() as direct:
        fetched = direct.get(target)
    assert fetched.status_code == 200
    assert fetched.content == data
    assert quote("relevé été.bin") in fetched.headers["content-disposition"]
