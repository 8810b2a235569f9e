"""The API docs (/docs, Swagger UI) work offline: every asset comes from the server.

FastAPI's default docs pages load their JavaScript/CSS from a CDN, so they break with no
internet. Checked over real sockets (the real uvicorn server) and, when Chromium and Playwright
are present, by rendering the page in a browser that is refused every request to another host.
/redoc is disabled: Redoc's bundle loads a logo from cdn.redoc.ly even when served locally.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from conftest import require

httpx = require("httpx", "dev")
require("fastapi", "serve")
require("fastapi_offline", "serve")
require("uvicorn", "serve")

from uniner.serving.server import ServerThread  # noqa: E402
from uniner.serving.settings import ServeSettings  # noqa: E402

KEY = "docs-key"


class NoEntities:
    """The docs never call the model: the smallest extractor the app accepts."""

    name = "no-entities"

    def extract_batch(self, texts, labels, **_):
        return [[] for _ in texts]


class AssetLinks(HTMLParser):
    """Collects every <script src> and <link href> of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        wanted = {"script": "src", "link": "href"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.urls.append(value)


def asset_urls(html: str) -> list[str]:
    parser = AssetLinks()
    parser.feed(html)
    return parser.urls


@pytest.fixture(scope="module")
def server():
    # with an API key set: the docs stay open like the page and /health, /v1/* does not
    with ServerThread(NoEntities(), ServeSettings(api_key=KEY)) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


def test_docs_page_uses_only_local_assets(client):
    path = "/docs"
    page = client.get(path)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    urls = asset_urls(page.text)
    scripts = [u for u in urls if u.endswith(".js")]
    assert scripts, f"{path} has no <script src>: {page.text[:500]}"
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"{path} loads {url} from another host"
        asset = client.get(urljoin(path, url))
        assert asset.status_code == 200, (url, asset.status_code)
        assert len(asset.content) > 0
    # the JS really is the bundled library, not an empty placeholder or an error page
    for url in scripts:
        asset = client.get(urljoin(path, url))
        assert "javascript" in asset.headers["content-type"]
        assert len(asset.content) > 100_000
    assert "cdn." not in page.text and "fonts.googleapis" not in page.text


def test_redoc_is_disabled(client):
    assert client.get("/redoc").status_code == 404


def test_openapi_and_key_rules_unchanged(client):
    schema = client.get("/openapi.json")
    assert schema.status_code == 200
    assert "/v1/extract" in schema.json()["paths"]
    # documentation routes stay out of the schema
    assert not set(schema.json()["paths"]) & {"/docs", "/redoc", "/"}
    assert client.get("/v1/models").status_code == 401
    assert client.get("/v1/models", headers={"X-API-Key": KEY}).status_code == 200
    assert client.get("/").status_code == 200 and client.get("/health").status_code == 200


# -- in a browser that cannot reach the internet ----------------------------------------------


def test_docs_render_with_no_internet(browser, server):
    path = "/docs"
    ctx = browser.new_context()
    external: list[str] = []

    def offline(route):
        url = route.request.url
        if url.startswith((server.url, "data:", "blob:")):
            route.continue_()
        else:
            external.append(url)
            route.abort()

    ctx.route("**/*", offline)
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(server.url + path)
    title = pg.wait_for_selector(".swagger-ui .info .title", timeout=120_000)
    assert "uniner" in title.inner_text()
    # the operations of the API are listed, so the schema was fetched and parsed
    # (Swagger UI puts zero-width spaces before each "/" of a path)
    pg.wait_for_function(
        "document.body.innerText.replace(/\\u200b/g, '').includes('/v1/extract')",
        timeout=120_000,
    )
    ctx.close()
    assert not errors, errors
    assert not external, f"{path} tried to fetch from other hosts: {external}"
