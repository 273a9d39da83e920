"""Each petition's own share picture, and what the petition page tells social sites about it."""

import io
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fontTools.ttLib import TTFont
from PIL import Image
from sqlalchemy import select

from petition.extensions import db
from petition.models import Petition
from petition.petitions import services
from petition.petitions.share_image import LINE_SPACING, TEXT_WIDTH, TITLE_BOTTOM, TITLE_TOP, fit_title

from .support import meta_content, store_signature

PERU = "Solidaridad con el pueblo peruano — ¡Fuera Boluarte!"


def share_image_url(client, slug: str, **headers) -> str:
    return meta_content(client.get(f"/p/{slug}", headers=headers).get_data(as_text=True), "og:image")


def fetch_image(client, url: str, **headers):
    parts = urlsplit(url)
    return client.get(parts.path, query_string=parts.query, headers=headers)


def retitle(app, slug: str, title: str) -> None:
    with app.app_context():
        petition = db.session.scalar(select(Petition).where(Petition.slug == slug))
        services.update_petition(petition, {"title": title})
        db.session.commit()


def translate(app, slug: str, language: str, title: str) -> None:
    with app.app_context():
        statement = {"translation_of": slug, "language": language, "title": title}
        services.load_petition(statement | {"subtitle": "", "body": "Texto.", "demands": []})
        db.session.commit()


def test_the_petition_page_points_social_sites_to_its_own_picture(client, petition):
    html = client.get(f"/p/{petition.slug}").get_data(as_text=True)

    url = meta_content(html, "og:image")
    assert url.startswith(f"http://localhost/p/{petition.slug}/share/en.png?")
    assert meta_content(html, "twitter:image") == url
    assert meta_content(html, "og:image:width") == "1200"
    assert meta_content(html, "og:image:height") == "630"
    assert meta_content(html, "og:image:type") == "image/png"


def test_the_picture_is_a_1200_by_630_png(client, petition):
    response = fetch_image(client, share_image_url(client, petition.slug))

    assert response.status_code == 200
    assert response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.data))
    assert image.format == "PNG"
    assert image.size == (1200, 630)


def test_the_picture_is_drawn_again_when_the_title_changes(app, client, petition):
    before_url = share_image_url(client, petition.slug)
    before = fetch_image(client, before_url).data

    retitle(app, petition.slug, PERU)

    after_url = share_image_url(client, petition.slug)
    assert after_url != before_url  # sites that keep pictures by address fetch the new one
    after = fetch_image(client, after_url)
    assert after.status_code == 200
    assert after.data != before
    assert Image.open(io.BytesIO(after.data)).size == (1200, 630)


def test_the_picture_is_kept_and_answers_304_to_a_client_that_holds_it(app, client, petition):
    url = share_image_url(client, petition.slug)
    first = fetch_image(client, url)
    store_signature(app, petition.slug)  # the count moves; the kept picture does not

    second = fetch_image(client, url)
    again = fetch_image(client, url, **{"If-None-Match": first.headers["ETag"]})

    assert second.data == first.data
    assert second.headers["ETag"] == first.headers["ETag"]
    assert "public" in first.headers["Cache-Control"]
    assert again.status_code == 304


def test_each_language_of_the_statement_has_its_picture(app, client, petition):
    translate(app, petition.slug, "es", PERU)

    spanish_url = share_image_url(client, petition.slug, **{"Accept-Language": "es"})
    english = fetch_image(client, share_image_url(client, petition.slug))
    spanish = fetch_image(client, spanish_url)

    assert urlsplit(spanish_url).path == f"/p/{petition.slug}/share/es.png"
    assert spanish.status_code == 200
    assert spanish.data != english.data


@pytest.mark.parametrize("language", ["fr", "xx", "EN"])
def test_a_language_the_statement_is_not_written_in_has_no_picture(client, petition, language):
    assert client.get(f"/p/{petition.slug}/share/{language}.png").status_code == 404


def test_a_petition_that_does_not_exist_has_no_picture(client):
    assert client.get("/p/no-such-petition/share/en.png").status_code == 404


@pytest.mark.parametrize(
    "title",
    [PERU, " ".join([PERU] * 4)[:200], "Ñ" * 200, "Solidaridad " + "x" * 150],
    ids=["accents", "long", "one-long-word", "long-word-after-a-short-one"],
)
def test_a_title_of_any_length_fits_its_box(app, title):
    with app.app_context():
        face, lines = fit_title(title)

    assert all(face.getlength(line) <= TEXT_WIDTH for line in lines)
    assert len(lines) * face.size * LINE_SPACING <= TITLE_BOTTOM - TITLE_TOP
    assert "".join(lines).replace(" ", "") == title.replace(" ", "")  # nothing lost at 200 characters


def test_the_bundled_fonts_draw_every_letter_of_a_spanish_title(app):
    fonts = Path(app.static_folder) / "fonts"
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        characters = TTFont(fonts / name).getBestCmap()
        assert {ord(letter) for letter in PERU + "áéíóúüñÑ·…"} <= set(characters), name


def test_the_share_description_keeps_the_subtitle_lines_apart(client, petition):
    html = client.get(f"/p/{petition.slug}").get_data(as_text=True)

    expected = (
        "A statement by the Executive Bureau of the Fourth International · "
        "Against the murderous government of Dina Boluarte! · "
        "New immediate elections and National Constituent Assembly!"
    )
    assert meta_content(html, "description") == expected
    assert meta_content(html, "og:description") == expected
    assert meta_content(html, "twitter:description") == expected


def test_the_picture_of_a_petition_with_signatures_is_drawn(app, client, petition):
    store_signature(app, petition.slug)
    english = client.get(f"/p/{petition.slug}/share/en.png")

    assert english.status_code == 200
    assert Image.open(io.BytesIO(english.data)).size == (1200, 630)
