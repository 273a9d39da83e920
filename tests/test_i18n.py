"""Languages: complete catalogs, pages and emails in Spanish, French and Portuguese with no
English left in them, the language chooser, localized country names and translated statements."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from petition.extensions import db as _db
from petition.mail.sender import send_due
from petition.models import PetitionTranslation

from .conftest import organization_fields, sign, signatures, valid_fields
from .i18n_support import (
    LANGUAGES,
    PLACEHOLDER,
    ROOT,
    TRANSLATIONS,
    catalog,
    chooser,
    country_options,
    english_left,
    forms,
    html_lang,
    placeholders,
)
from .support import links, meta_content, store_signature

SPANISH_STATEMENT = Path(__file__).parent / "content" / "solidarity-with-the-peruvian-people.es.md"


# -- the catalogs ------------------------------------------------------------------------------


def test_every_extracted_string_is_translated_in_every_language(tmp_path):
    """A new string without a translation breaks the build: `make translations-update`, then
    translate what it added or marked fuzzy."""
    template = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(
        [str(pybabel), "extract", "-F", "babel.cfg", "-o", str(template), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with open(template, "rb") as pot:
        wanted = [message for message in read_po(pot) if message.id]
    assert len(wanted) > 100, "the extraction found too few strings: is babel.cfg right?"
    problems = []
    for language in LANGUAGES:
        translated = catalog(language)
        assert translated.num_plurals == 2, f"{language}: unexpected Plural-Forms"
        for message in wanted:
            found = translated.get(message.id, message.context)
            english = forms(message)[0][0]
            if found is None:
                problems.append(f"{language}: missing {english!r}")
            elif found.fuzzy:
                problems.append(f"{language}: fuzzy {english!r}")
            elif not all(forms(found)[1]) or len(forms(found)[1]) != (
                translated.num_plurals if found.pluralizable else 1
            ):
                problems.append(f"{language}: untranslated {english!r}")
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders_and_add_no_markup(language):
    problems = []
    for message in catalog(language):
        if not message.id:
            continue
        english, translated = forms(message)
        for index, text in enumerate(translated):
            source = english[min(index, len(english) - 1)]
            if placeholders(text) != placeholders(source) and not (
                index == 0 and placeholders(text) <= placeholders(english[-1])
            ):
                problems.append(f"{text!r} has {placeholders(text)}, {source!r} has {placeholders(source)}")
            if "%" in PLACEHOLDER.sub("", text):
                problems.append(f"{text!r} has a % that is no placeholder")
            if re.search(r"[<>&]", text) and not re.search(r"[<>&]", source):
                problems.append(f"{text!r} adds markup (translations are marked safe in templates)")
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogs_are_up_to_date(language):
    source = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
    compiled = source.with_suffix(".mo")
    assert compiled.exists(), "run `make translations` (make test does)"
    assert compiled.stat().st_mtime >= source.stat().st_mtime, "run `make translations`"


# -- no English left on the pages --------------------------------------------------------------


def form_errors_page(client, slug, language):
    client.get(f"/p/{slug}?lang={language}")
    fields = organization_fields(
        name="", email="not-an-address", country="", contact_name="", website="not a site", comment="x" * 501
    )
    response = sign(client, slug, **fields)
    assert response.status_code == 422
    return response


PAGES = (
    "/p/{slug}",
    "/p/{slug}/signatories",
    "/p/{slug}/thanks",
    "/p/{slug}/check-email",
    "/privacy",
    "/p/nope",
)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("path", PAGES)
def test_public_pages_have_no_english_left(app, client, petition, path, language):
    store_signature(app, petition.slug, name="Ana Quispe", city="Cusco")
    store_signature(app, petition.slug, kind="organization", name="SUTEP", contact_name="Rosa Mamani")

    html = client.get(path.format(slug=petition.slug) + f"?lang={language}").get_data(as_text=True)

    assert english_left(html, language) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_sign_form_with_errors_has_no_english_left(client, petition, language):
    html = form_errors_page(client, petition.slug, language).get_data(as_text=True)

    assert html.count('class="error-message"') >= 5
    assert english_left(html, language) == []


def test_the_check_for_english_finds_english(client, petition):
    """The check above can fail: an English page read as Spanish is full of English."""
    html = client.get(f"/p/{petition.slug}?lang=en").get_data(as_text=True).replace('lang="en"', 'lang="es"')

    assert {"Sign the petition", "Our demands", "Email address"} <= set(english_left(html, "es"))


# -- choosing the language ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "heading"),
    [("es", "Firma la petición"), ("fr", "Signez la pétition"), ("pt", "Assine a petição")],
)
def test_the_page_is_in_the_chosen_language_and_says_so(client, petition, language, heading):
    response = client.get(f"/p/{petition.slug}?lang={language}")

    assert html_lang(response) == language
    assert f'<h2 id="sign-title">{heading}</h2>' in response.get_data(as_text=True)


def test_the_chosen_language_is_remembered_by_a_cookie(client, petition):
    chosen = client.get(f"/p/{petition.slug}?lang=es")
    assert "lang=es" in chosen.headers["Set-Cookie"]

    assert html_lang(client.get("/privacy")) == "es"
    assert html_lang(client.get(f"/p/{petition.slug}", headers={"Accept-Language": "fr"})) == "es"
    assert html_lang(client.get("/privacy?lang=pt")) == "pt"
    assert html_lang(client.get("/privacy")) == "pt"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("fr", "fr"),
        ("fr-CA,fr;q=0.9,en;q=0.5", "fr"),
        ("pt-BR", "pt"),
        ("de-DE,es;q=0.8", "es"),
        ("de", "en"),
        ("", "en"),
        # Longer than the headers whose answers are kept: parsed each time, to the same effect.
        (",".join(f"x{n}" for n in range(100)) + ",es;q=0.1", "es"),
    ],
)
def test_accept_language_chooses_when_the_visitor_has_not(client, petition, accept, expected):
    response = client.get(f"/p/{petition.slug}", headers={"Accept-Language": accept})

    assert html_lang(response) == expected
    assert {"Accept-Language", "Cookie"} <= set(response.headers["Vary"].replace(" ", "").split(","))


def test_the_widget_that_caches_share_speaks_the_language_asked_but_sets_no_cookie(client, petition):
    response = client.get(f"/p/{petition.slug}/embed?lang=es")

    assert response.cache_control.public, "the embed widget is kept by shared caches"
    assert html_lang(response) == "es"
    assert "lang=" not in response.headers.get("Set-Cookie", "")
    assert "Accept-Language" in response.headers["Vary"]


def test_a_cookie_without_a_language_leaves_the_choice_to_the_browser(client, petition):
    client.set_cookie("other", "1")
    response = client.get(f"/p/{petition.slug}?source=link", headers={"Accept-Language": "pt-BR"})

    assert html_lang(response) == "pt"


def test_an_unknown_language_is_ignored(client, petition):
    response = client.get(f"/p/{petition.slug}?lang=xx", headers={"Accept-Language": "fr"})

    assert html_lang(response) == "fr"
    assert "Set-Cookie" not in response.headers or "lang=" not in response.headers["Set-Cookie"]


def test_the_chooser_names_each_language_in_itself_and_keeps_the_page(client, petition):
    html = client.get(f"/p/{petition.slug}/signatories?kind=organization&country=PE&lang=fr").get_data(
        as_text=True
    )

    base = f"/p/{petition.slug}/signatories?kind=organization&country=PE&lang="
    assert chooser(html) == [
        ("en", "English", base + "en", False),
        ("es", "Español", base + "es", False),
        ("fr", "Français", base + "fr", True),
        ("pt", "Português", base + "pt", False),
    ]


def test_the_shared_petition_page_links_keep_only_the_source(client, petition):
    html = client.get(f"/p/{petition.slug}?source=whatsapp&fbclid=someone-else").get_data(as_text=True)

    assert [href for _, _, href, _ in chooser(html)][1] == f"/p/{petition.slug}?source=whatsapp&lang=es"


def test_the_chooser_after_a_refused_signature_leads_to_the_petition(client, petition):
    html = form_errors_page(client, petition.slug, "pt").get_data(as_text=True)

    assert [href for _, _, href, _ in chooser(html)] == [
        f"/p/{petition.slug}?lang={code}" for code in ("en", "es", "fr", "pt")
    ]


# -- countries ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "peru"), [("en", "Peru"), ("es", "Perú"), ("fr", "Pérou"), ("pt", "Peru")]
)
def test_countries_are_named_in_the_reader_language(app, client, petition, language, peru):
    store_signature(app, petition.slug, country="PE", name="Ana Quispe")

    form_html = client.get(f"/p/{petition.slug}?lang={language}").get_data(as_text=True)
    list_html = client.get(f"/p/{petition.slug}/signatories?lang={language}").get_data(as_text=True)

    assert ("PE", peru) in country_options(form_html)
    assert f'<span class="signatory-place">{peru}</span>' in list_html


def test_countries_are_sorted_with_accents_set_aside(client, petition):
    names = [
        name for _, name in country_options(client.get(f"/p/{petition.slug}?lang=fr").get_data(as_text=True))
    ]

    assert (
        names.index("Égypte") < names.index("Espagne") < names.index("États-Unis") < names.index("Finlande")
    )
    assert names[:2] == ["Afghanistan", "Afrique du Sud"]


# -- statements in other languages -------------------------------------------------------------


def load_spanish(runner, path=SPANISH_STATEMENT):
    return runner.invoke(args=["petition", "load", str(path)])


def test_a_translation_is_loaded_and_shown_to_spanish_readers_only(app, client, runner, petition):
    result = load_spanish(runner)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == petition.slug

    spanish = client.get(f"/p/{petition.slug}?lang=es").get_data(as_text=True)
    assert "<h1>Solidaridad con el pueblo peruano</h1>" in spanish
    assert "<li>¡FIN AL ESTADO DE EMERGENCIA YA!</li>" in spanish
    assert "La crisis del sistema político fujimorista</h2>" in spanish
    assert meta_content(spanish, "og:title") == "Solidaridad con el pueblo peruano"
    assert meta_content(spanish, "og:locale") == "es_ES"
    assert meta_content(spanish, "og:url").endswith(f"/p/{petition.slug}")
    assert f"/p/{petition.slug}?lang=en" in links(spanish.split('class="statement-languages"')[1])

    english = client.get(f"/p/{petition.slug}?lang=en").get_data(as_text=True)
    assert f"<h1>{petition.title}</h1>" in english
    assert "Solidaridad" not in english.split("<body")[0]
    assert meta_content(english, "og:locale:alternate") == "es_ES"
    assert re.search(
        r"Read this statement in:\s*<a href=\"[^\"]*lang=es\" hreflang=\"es\" lang=\"es\">Español</a>",
        english,
    )

    french = client.get(f"/p/{petition.slug}?lang=fr").get_data(as_text=True)
    assert f'<h1 lang="en">{petition.title}</h1>' in french
    assert "pas encore traduite" in french


def test_loading_a_translation_again_updates_it(app, runner, petition, tmp_path):
    assert load_spanish(runner).exit_code == 0
    changed = tmp_path / "es.md"
    changed.write_text(
        SPANISH_STATEMENT.read_text(encoding="utf-8").replace("con el pueblo peruano", "con el Perú"),
        encoding="utf-8",
    )

    assert load_spanish(runner, changed).exit_code == 0

    with app.app_context():
        rows = _db.session.scalars(select(PetitionTranslation)).all()
        assert [(row.language, row.title) for row in rows] == [("es", "Solidaridad con el Perú")]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("translation_of: solidarity-with-the-peruvian-people", "translation_of: no-such-petition"),
            "load the original first",
        ),
        (("language: es\n", ""), "needs its language"),
        (("language: es", "language: en"), "written in 'en' already"),
        (("language: es", "language: es-PE"), "a code like es"),
    ],
)
def test_a_wrong_translation_is_refused_with_a_reason(app, runner, petition, tmp_path, change, message):
    broken = tmp_path / "broken.md"
    broken.write_text(SPANISH_STATEMENT.read_text(encoding="utf-8").replace(*change), encoding="utf-8")

    result = load_spanish(runner, broken)

    assert result.exit_code != 0
    assert message in result.output
    with app.app_context():
        assert _db.session.scalars(select(PetitionTranslation)).all() == []


# -- emails ------------------------------------------------------------------------------------


@pytest.fixture
def mail_app(make_app, smtp):
    return make_app(SMTP_URL=smtp.url, MAIL_FROM="petition@sign.example.org")


def test_a_spanish_signer_is_answered_in_spanish(mail_app, smtp, runner, bundled_petition):
    assert load_spanish(runner).exit_code == 0
    client = mail_app.test_client()
    client.get(f"/p/{bundled_petition.slug}?lang=es")

    response = sign(client, bundled_petition.slug, **valid_fields())
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Revisa tu bandeja de entrada" in page
    assert [row.locale for row in signatures(mail_app)] == ["es"]
    with mail_app.app_context():
        assert send_due() == (1, 0)

    [message] = smtp.messages
    assert message["Subject"] == "Confirma tu firma: Solidaridad con el pueblo peruano"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert text.startswith("Hola, Ana Quispe:")
    assert "Gracias por firmar “Solidaridad con el pueblo peruano”." in text
    assert "Para retirar tu firma:" in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert '<html lang="es">' in html
    assert "Confirmar mi firma</a>" in html


def test_a_french_signer_is_thanked_in_french_and_the_english_one_in_english(mail_app, smtp, petition):
    french, english = mail_app.test_client(), mail_app.test_client()
    french.get(f"/p/{petition.slug}?lang=fr")

    thanked = sign(french, petition.slug, **valid_fields(name="Louise Michel", email="louise@example.org"))
    assert "Votre signature est comptée." in french.get(thanked.headers["Location"]).get_data(as_text=True)
    sign(english, petition.slug, **valid_fields(email="ana@example.org"))
    with mail_app.app_context():
        assert send_due() == (2, 0)

    subjects = {message["To"]: message["Subject"] for message in smtp.messages}
    assert subjects == {
        "louise@example.org": f"Merci d'avoir signé\u00a0: {petition.title}",
        "ana@example.org": f"Thank you for signing: {petition.title}",
    }
