"""/docs and /redoc load every asset from the service itself (no CDN, no web fonts)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def test_the_docs_pages_use_only_assets_the_service_serves(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        answer = client.get(page)
        assert answer.status_code == 200
        urls = re.findall(r"""(?:src|href)=["']([^"']+)["']|url: ?["']([^"']+)["']""", answer.text)
        found = [u for pair in urls for u in pair if u]
        assert found, answer.text
        for url in found:
            assert url.startswith("/"), f"{page} loads {url} from elsewhere"
            assert client.get(url).status_code == 200, url
        assert "cdn" not in answer.text.lower()
        assert "fonts.googleapis" not in answer.text
