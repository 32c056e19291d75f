"""The lead image in Chromium: the focal-point picker in the admin, and which file a reader's
browser downloads at phone and laptop widths."""

import io
from urllib.parse import unquote, urlparse

import pytest
from django.test import RequestFactory
from PIL import Image

from explainers import services
from explainers.models import Explainer
from newsroom.media import serve_media
from tests.explainers import image_files as files
from tests.factories import ExplainerFactory, editor

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery staple"


def serve_uploads(context) -> list[str]:
    """Serve /media/ through the development media view (Django serves none with DEBUG off,
    as in tests); returns the list of media paths the browser asked for, in order."""
    asked = []

    def handle(route):
        path = unquote(urlparse(route.request.url).path).removeprefix("/media/")
        asked.append(path)
        try:
            response = serve_media(RequestFactory().get("/"), path)
        except Exception:  # Http404: the file is not there
            route.fulfill(status=404, body="")
            return
        route.fulfill(
            status=200,
            body=b"".join(response.streaming_content),
            headers=dict(response.items()),
        )

    context.route("**/media/**", handle)
    return asked


def log_in(context, live_server, user):
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    return page


def pixel(png: bytes, x: int, y: int) -> tuple[int, int, int]:
    return Image.open(io.BytesIO(png)).convert("RGB").getpixel((x, y))


def is_red(rgb) -> bool:
    return rgb[0] > 170 and rgb[2] < 90


def test_click_sets_the_focal_point_and_the_crops_follow(live_server, browser, screenshot):
    """Clicking the picture fills both fields; the 1:1 crop preview moves to the red subject."""
    explainer = ExplainerFactory(
        image=files.photo_upload((1600, 900), mark=(85, 50)), image_alt="A red lantern"
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    serve_uploads(context)
    page = log_in(context, live_server, editor("eddie"))
    page.goto(f"{live_server.url}/admin/explainers/explainer/{explainer.pk}/change/")
    picker = page.locator("[data-focal-picker]")
    picker.scroll_into_view_if_needed()
    page.wait_for_selector("[data-focal-picker].focal-ready")
    square = page.locator('[data-crop="1:1"]')
    # Centred, the square crop (pixels 350-1250 of 1600) barely reaches the red at 1270-1450.
    assert not is_red(pixel(square.screenshot(), 117, 80))

    box = page.locator(".focal-image").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.85, box["y"] + box["height"] * 0.5)
    assert page.input_value("#id_image_focal_x") == "85"
    assert page.input_value("#id_image_focal_y") == "50"
    assert "85% across, 50% down" in page.locator(".focal-status").inner_text()
    # Now the square is cut from the right (700-1600): the red square's centre, 1360, sits
    # at 660/900 of it, i.e. 117 of the preview's 160 pixels.
    for ratio in ("16:9", "4:3", "1:1"):
        assert page.locator(f'[data-crop="{ratio}"]').is_visible()
    assert is_red(pixel(square.screenshot(), 117, 80))
    screenshot(page, "lead-image-focal-point")

    # The keyboard path: typing in the fields moves the preview the same way.
    page.fill("#id_image_focal_x", "5")
    assert not is_red(pixel(square.screenshot(), 117, 80))
    page.fill("#id_image_focal_x", "85")
    assert is_red(pixel(square.screenshot(), 117, 80))

    page.click("input[name=_continue]")
    page.get_by_text("was changed successfully").wait_for()
    explainer.refresh_from_db()
    assert (explainer.image_focal_x, explainer.image_focal_y) == (85, 50)
    context.close()


@pytest.mark.parametrize(("width", "expected"), [(320, "w-480.webp"), (1280, "w-800.webp")])
def test_reader_downloads_the_rendition_that_fits(live_server, browser, width, expected):
    """A 320 px phone gets the 480 px WebP, a 1280 px laptop the 800 px one; nothing else."""
    explainer = ExplainerFactory(image=files.photo_upload((2400, 1350)), image_alt="Envoys")
    services.explainer_publish(explainer=explainer, user=editor())
    explainer = Explainer.objects.get(pk=explainer.pk)
    context = browser.new_context(viewport={"width": width, "height": 800}, device_scale_factor=1)
    asked = serve_uploads(context)
    page = context.new_page()
    page.goto(live_server.url + explainer.get_absolute_url())
    image = page.locator(".lead-image img")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    assert image.evaluate("img => img.currentSrc").endswith(expected)
    assert [path.rsplit("/", 1)[1] for path in asked] == [expected]
    shown = image.bounding_box()
    assert abs(shown["height"] - shown["width"] * 1350 / 2400) < 2  # space kept, no jump
    context.close()


@pytest.mark.parametrize("width", [1280, 320])
def test_image_panel_and_reader_picture_fit_and_pass_axe(live_server, browser, width):
    """The picker and the reader's figure fit a phone and a laptop; axe finds nothing."""
    from axe_playwright_python.sync_playwright import Axe

    from tests.browser.test_admin_fit import DJANGO_WIDGETS, OVERFLOW, WCAG_22_AA

    explainer = ExplainerFactory(
        image=files.photo_upload((2400, 1350), mark=(30, 40)),
        image_alt="Envoys at a table",
        image_credit="Jane Doe / Agency",
        image_ai_generated=True,
    )
    services.explainer_publish(explainer=explainer, user=editor())
    context = browser.new_context(viewport={"width": width, "height": 900})
    serve_uploads(context)
    page = log_in(context, live_server, editor("eddie"))
    axe = Axe()
    problems = {}
    for path in (
        f"/admin/explainers/explainer/{explainer.pk}/change/",
        Explainer.objects.get(pk=explainer.pk).get_absolute_url(),
    ):
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        result = axe.run(
            page,
            context={"exclude": DJANGO_WIDGETS},
            options={"runOnly": {"type": "tag", "values": WCAG_22_AA}},
        )
        found = page.evaluate(OVERFLOW) + [v["id"] for v in result.response["violations"]]
        if found:
            problems[path] = found
    assert "AI-generated image" in page.locator(".lead-image figcaption").inner_text()
    context.close()
    assert problems == {}
