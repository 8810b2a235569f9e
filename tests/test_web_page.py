"""The web page end to end in headless Chromium (Debian's ``chromium`` driven by Playwright).

The real server with the real default model: type text and labels, see coloured highlights with
the score on hover, move the threshold slider, switch to nested, download the JSON, see a limit
error, and check user text is never interpreted as HTML. A screenshot is saved as an artefact
(``$UNINER_TEST_ARTIFACTS`` if set, else the test's tmp dir; the path is printed).

Skips when Chromium or Playwright is missing, unless ``CI`` is set: then it fails.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest

from conftest import require
from uniner.models import DEFAULT_MODEL


@pytest.fixture(scope="module")
def server():
    require("fastapi", "serve")
    from tests.doubles.serving import shared_model
    from uniner.serving.server import ServerThread
    from uniner.serving.settings import ServeSettings

    with ServerThread(shared_model(), ServeSettings(max_text_chars=2_000)) as srv:
        yield srv


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(accept_downloads=True, viewport={"width": 1100, "height": 900})
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    # the browser logs every non-2xx fetch as a console error; the error test expects a 413
    pg.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text
            else None
        ),
    )
    external: list[str] = []
    pg.on(
        "request",
        lambda r: (
            None if r.url.startswith((server.url, "data:", "blob:")) else external.append(r.url)
        ),
    )
    pg.goto(server.url + "/")
    pg.wait_for_selector("body[data-state=ready]")
    yield pg
    assert not errors, errors
    assert not external, f"the page fetched external assets: {external}"
    ctx.close()


def run(pg, text: str, labels: str):
    pg.fill("#text", text)
    pg.fill("#labels", labels)
    with pg.expect_response("**/v1/extract") as resp:
        pg.click("#run")
    pg.wait_for_function("document.querySelector('#run').disabled === false")
    return resp.value


def artefact_dir(tmp_path: Path) -> Path:
    out = Path(os.environ.get("UNINER_TEST_ARTIFACTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def test_highlight_hover_threshold_download(page, tmp_path):
    pg = page
    assert DEFAULT_MODEL in pg.inner_text("#model-name")
    text = "Marie Curie discovered polonium at the University of Paris."
    resp = run(pg, text, "person, chemical element, university")
    # the slider untouched, the model picks the threshold (it may depend on the types asked),
    # and the slider then shows the one it used
    assert "threshold" not in resp.request.post_data_json
    used = resp.json()["threshold"]
    assert pg.inner_text("#threshold-value") == f"{used:.2f}"
    assert f"threshold {used:.2f} (model's)" in pg.inner_text("#status")

    marks = pg.locator("#output mark.ent")
    found = {
        (
            marks.nth(i).get_attribute("data-label"),
            pg.evaluate("m => m.firstChild.textContent", marks.nth(i).element_handle()),
        )
        for i in range(marks.count())
    }
    assert ("person", "Marie Curie") in found and ("university", "University of Paris") in found
    # the text is shown whole, entities in place
    assert pg.inner_text("#output").replace("PERSON", "").replace("UNIVERSITY", "") != ""
    person = pg.locator("#output mark.ent[data-label=person]").first
    uni = pg.locator("#output mark.ent[data-label=university]").first
    colour = lambda loc: loc.evaluate("e => getComputedStyle(e).backgroundColor")  # noqa: E731
    assert colour(person) != colour(uni)
    chip = pg.locator("#legend .chip", has_text="person")
    assert colour(chip) == colour(person)  # legend shows each label's colour

    # hover: label and score
    person.hover()
    tip = pg.locator("#tooltip")
    tip.wait_for(state="visible")
    score = float(person.get_attribute("data-score"))
    assert tip.inner_text() == f"person · score {score:.3f}"
    assert 0.5 < score <= 1.0

    shot = artefact_dir(tmp_path) / "web-page.png"
    pg.screenshot(path=str(shot), full_page=True)
    width, height = struct.unpack(">II", shot.read_bytes()[16:24])
    assert shot.stat().st_size > 10_000 and width >= 1000 and height >= 400
    print(f"\nscreenshot: {shot}")

    # threshold slider: re-runs with the new threshold, fewer or equal entities, all above it
    before = marks.count()
    with pg.expect_response("**/v1/extract") as resp:
        pg.locator("#threshold").fill("0.9")
    assert resp.value.request.post_data_json["threshold"] == 0.9
    pg.wait_for_function("document.querySelector('#status').textContent.includes('threshold 0.90')")
    after = [float(marks.nth(i).get_attribute("data-score")) for i in range(marks.count())]
    assert len(after) <= before and all(s >= 0.9 for s in after)
    assert pg.inner_text("#threshold-value") == "0.90"
    assert pg.is_visible("#threshold-reset")  # a way back to the model's own threshold

    # download JSON: the request and the server's response
    with pg.expect_download() as dl:
        pg.click("#download")
    path = tmp_path / "download.json"
    dl.value.save_as(path)
    data = json.loads(path.read_text())
    assert dl.value.suggested_filename == "uniner-entities.json"
    assert data["request"]["labels"] == ["person", "chemical element", "university"]
    assert data["request"]["threshold"] == 0.9
    ents = data["response"]["results"][0]["entities"]
    assert len(ents) == marks.count()
    assert all(text[e["start"] : e["end"]] == e["text"] for e in ents)

    # back to the model's threshold: the next request carries none, the slider shows its value
    with pg.expect_response("**/v1/extract") as resp:
        pg.click("#threshold-reset")
    assert "threshold" not in resp.value.request.post_data_json
    pg.wait_for_function("document.querySelector('#status').textContent.includes(\"(model's)\")")
    assert pg.inner_text("#threshold-value") == f"{used:.2f}"
    assert not pg.is_visible("#threshold-reset")


def test_nested_entities_render_inside_each_other(page):
    pg = page
    pg.check("#nested")
    pg.locator("#threshold").fill("0.2")
    # the default model nests "New York Times" (1.0) inside "The New York Times" (0.83)
    run(pg, "The New York Times is based in New York.", "newspaper, city")
    inner = pg.locator("#output mark.ent mark.ent")
    assert inner.count() >= 1
    assert pg.locator("#entities tbody tr").count() >= 2


def test_errors_are_shown_and_text_is_never_html(page):
    pg = page
    run(pg, "x" * 2_500, "person")
    status = pg.locator("#status")
    assert "error" in (status.get_attribute("class") or "")
    assert "413" in status.inner_text() and "field: text" in status.inner_text()

    run(pg, "<b>Ada Lovelace</b> <img src=x onerror=alert(1)> wrote notes.", "person")
    assert pg.locator("#output b, #output img").count() == 0
    assert "<img src=x onerror=alert(1)>" in pg.inner_text("#output")
