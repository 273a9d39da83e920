"""Reading statements (Markdown with front matter, or plain text) and the `petition` commands."""

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from petition.extensions import db
from petition.models import Petition, Signature
from petition.petitions.importer import StatementError, read_statement

from .support import store_signature

SEED = Path(__file__).parents[2] / "shared/seed/000_d06204874497a471.txt"
BUNDLED = Path(__file__).parents[1] / "content/solidarity-with-the-peruvian-people.md"
BUNDLED_SLUG = "solidarity-with-the-peruvian-people"
SUBTITLE = [
    "A statement by the Executive Bureau of the Fourth International",
    "Against the murderous government of Dina Boluarte!",
    "New immediate elections and National Constituent Assembly!",
]
DEMANDS = [
    "AGAINST THE PARLIAMENTARY COUP: OUT WITH DINA BOLUARTE!",
    "END THE STATE OF EMERGENCY NOW!",
    "RELEASE OF ALL PRISONERS! INVESTIGATION OF THE DEATHS AND PUNISHMENT OF THE ASSASSINS!",
    "FOR A CONSTITUENT NATIONAL ASSEMBLY!",
]
OTHER_STATEMENT = """---
slug: free-the-prisoners
title: Free the prisoners
demands:
  - FREE THEM ALL!
---

A short statement.
"""


def statement_files():
    files = [pytest.param(BUNDLED, id="markdown")]
    files.append(
        pytest.param(
            SEED, id="plain-text", marks=pytest.mark.skipif(not SEED.exists(), reason="no shared seed")
        )
    )
    return files


def paragraphs(statement) -> list[str]:
    return statement["body"].split("\n\n")


def write(tmp_path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(runner, path, *options):
    return runner.invoke(args=["petition", "load", str(path), *options])


def stored_petitions(app) -> list[Petition]:
    with app.app_context():
        rows = db.session.scalars(select(Petition).order_by(Petition.id)).all()
        db.session.expunge_all()
        return rows


def stored_names(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Signature.name).order_by(Signature.id)))


# The statement, from either file


@pytest.mark.skipif(not SEED.exists(), reason="no shared seed")
def test_plain_text_seed_and_bundled_markdown_give_the_same_statement():
    plain, markdown = read_statement(SEED), read_statement(BUNDLED)
    for key in ("slug", "title", "subtitle", "issuer", "published_on", "source_url", "demands", "body"):
        assert plain[key] == markdown[key], key


@pytest.mark.parametrize("path", statement_files())
def test_statement_has_title_subtitle_issuer_date_and_source(path):
    statement = read_statement(path)
    assert statement["slug"] == BUNDLED_SLUG
    assert statement["title"] == "Solidarity with the Peruvian people"
    assert statement["subtitle"].splitlines() == SUBTITLE
    assert statement["issuer"] == "Executive Bureau of the Fourth International"
    assert statement["published_on"] == dt.date(2023, 1, 4)
    assert statement["source_url"] == "https://fourth.international/en/566/latin-america/494"


@pytest.mark.parametrize("path", statement_files())
def test_statement_has_the_four_demands_and_they_are_not_in_the_body(path):
    statement = read_statement(path)
    assert statement["demands"] == DEMANDS
    for demand in DEMANDS:
        assert demand not in statement["body"]


@pytest.mark.parametrize("path", statement_files())
def test_statement_body_has_its_two_headings(path):
    body = paragraphs(read_statement(path))
    assert "## The crisis of the Fujimori political system" in body
    assert "## Illegitimate government and Congress" in body
    assert body.index("## The crisis of the Fujimori political system") < body.index(
        "## Illegitimate government and Congress"
    )
    assert body[0].startswith("In mid-December, large and combative mobilizations")
    assert body[-1].startswith("The Fourth International expresses its solidarity")


@pytest.mark.parametrize(
    "sentence",
    [
        "resorting to the Armed Forces to contain the demonstrations",
        "a parliament and a coupist press",
        "has proven that it does not have",
    ],
)
@pytest.mark.parametrize("path", statement_files())
def test_paragraphs_split_mid_sentence_are_mended(path, sentence):
    assert any(sentence in paragraph for paragraph in paragraphs(read_statement(path)))


@pytest.mark.parametrize("path", statement_files())
def test_statement_keeps_no_placeholder_link_or_stray_lines(path):
    statement = read_statement(path)
    for key, value in statement.items():
        assert "](#)" not in str(value), key
    assert "Originally published" not in statement["body"]
    assert "4 January 2023" not in statement["body"]
    assert not statement["body"].endswith(statement["issuer"])


def test_plain_text_placeholder_link_becomes_its_text(tmp_path):
    path = write(tmp_path, "s.txt", "A title\n\nBy the [Bureau](#)\n\n" + "Some words. " * 20 + "\n")
    statement = read_statement(path)
    assert statement["subtitle"] == "By the Bureau"


# Files that do not describe a statement


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("---\ntitle: Unclosed\n\nbody\n", "closing", id="front-matter-without-closing"),
        pytest.param("---\ntitle: [unclosed\n---\nbody\n", "YAML", id="invalid-yaml"),
        pytest.param("---\nissuer: Someone\n---\nbody\n", "title", id="missing-title"),
        pytest.param("---\n- a list\n---\nbody\n", "title", id="front-matter-not-a-mapping"),
        pytest.param("---\ntitle: T\ngoal: -5\n---\nbody\n", "goal", id="negative-goal"),
        pytest.param("---\ntitle: T\ngoal: lots\n---\nbody\n", "goal", id="goal-not-a-number"),
        pytest.param("---\ntitle: T\ndate: 12345\n---\nbody\n", "date", id="date-a-number"),
        pytest.param("---\ntitle: T\ndate: someday\n---\nbody\n", "date", id="date-unreadable"),
        pytest.param("---\ntitle: T\nslug: a/b\n---\nbody\n", "slug", id="slug-with-slash"),
        pytest.param("---\ntitle: T\nslug: " + "y" * 81 + "\n---\nbody\n", "slug", id="slug-too-long"),
        pytest.param("---\ntitle: " + "x" * 201 + "\n---\nbody\n", "title", id="title-too-long"),
        pytest.param("---\ntitle: T\nrequires_confirmation: maybe\n---\nb\n", "confirmation", id="not-bool"),
        pytest.param(
            "---\ntitle: T\norganizations_need_approval: 1\n---\nb\n", "approval", id="approval-not-bool"
        ),
        pytest.param("---\ntitle: T\nsubtitle: {a: 1}\n---\nbody\n", "subtitle", id="subtitle-mapping"),
        pytest.param("", "empty", id="empty-file"),
        pytest.param("\n  \n\n", "empty", id="blank-file"),
    ],
)
def test_file_that_is_not_a_statement_raises_statement_error(tmp_path, text, message):
    with pytest.raises(StatementError, match=message):
        read_statement(write(tmp_path, "bad.md", text))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("---\ntitle: Unclosed\n\nbody\n", id="front-matter-without-closing"),
        pytest.param("---\ntitle: [unclosed\n---\nbody\n", id="invalid-yaml"),
        pytest.param("---\nissuer: Someone\n---\nbody\n", id="missing-title"),
        pytest.param("---\ntitle: T\ngoal: -5\n---\nbody\n", id="negative-goal"),
        pytest.param("---\ntitle: T\ndate: 12345\n---\nbody\n", id="date-a-number"),
    ],
)
def test_load_of_a_bad_file_prints_a_clean_error_and_stores_nothing(app, runner, tmp_path, text):
    path = write(tmp_path, "bad.md", text)
    result = load(runner, path)
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert str(path) in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    assert stored_petitions(app) == []


def test_load_of_a_file_not_in_utf8_prints_a_clean_error(app, runner, tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("Título\n\nEl cuerpo.\n".encode("latin-1"))
    result = load(runner, path)
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert isinstance(result.exception, SystemExit)
    assert stored_petitions(app) == []


def test_load_of_a_missing_file_is_refused_without_traceback(runner, tmp_path):
    result = load(runner, tmp_path / "nowhere.md")
    assert result.exit_code == 2
    assert "does not exist" in result.output
    assert "Traceback" not in result.output


def test_slug_made_from_a_long_title_never_ends_in_a_hyphen(tmp_path):
    title = "a" * 79 + " " + "b" * 100
    statement = read_statement(write(tmp_path, "long.txt", title[:150] + "\n\nBody text here.\n"))
    assert not statement["slug"].endswith("-")
    assert len(statement["slug"]) <= 80


# `petition load`


def test_load_prints_the_slug(app, runner):
    result = load(runner, BUNDLED)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == BUNDLED_SLUG
    [stored] = stored_petitions(app)
    assert stored.slug == BUNDLED_SLUG
    assert stored.demands == DEMANDS
    assert stored.goal == 10000


@pytest.mark.skipif(not SEED.exists(), reason="no shared seed")
def test_load_of_plain_text_seed_stores_the_statement(app, runner):
    result = load(runner, SEED)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == BUNDLED_SLUG
    [stored] = stored_petitions(app)
    assert stored.subtitle_lines == SUBTITLE
    assert stored.published_on == dt.date(2023, 1, 4)


def test_loading_the_same_file_twice_updates_the_one_petition(app, runner, tmp_path):
    assert load(runner, BUNDLED).exit_code == 0
    [first] = stored_petitions(app)
    store_signature(app, BUNDLED_SLUG, name="Ana Quispe")
    changed = BUNDLED.read_text(encoding="utf-8")
    changed = changed.replace(
        "title: Solidarity with the Peruvian people", "title: Solidarity with the people of Peru"
    ).replace("goal: 10000", "goal: 20000")
    assert "people of Peru" in changed
    copy = write(tmp_path, "copy.md", changed)

    result = load(runner, copy)

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == BUNDLED_SLUG
    [updated] = stored_petitions(app)
    assert updated.id == first.id
    assert updated.title == "Solidarity with the people of Peru"
    assert updated.goal == 20000
    assert stored_names(app) == ["Ana Quispe"]


def test_first_petition_loaded_is_featured(app, runner, client):
    load(runner, BUNDLED)
    response = client.get("/")
    assert response.status_code in (302, 303)
    assert response.headers["Location"].endswith(f"/p/{BUNDLED_SLUG}")


def test_loading_another_statement_keeps_the_featured_petition(app, runner, client, tmp_path):
    load(runner, BUNDLED)
    result = load(runner, write(tmp_path, "other.md", OTHER_STATEMENT))
    assert result.output.splitlines()[-1] == "free-the-prisoners"
    featured = [p.slug for p in stored_petitions(app) if p.featured]
    assert featured == [BUNDLED_SLUG]
    assert client.get("/").headers["Location"].endswith(f"/p/{BUNDLED_SLUG}")


def test_loading_with_feature_makes_it_the_only_featured_petition(app, runner, client, tmp_path):
    load(runner, BUNDLED)
    result = load(runner, write(tmp_path, "other.md", OTHER_STATEMENT), "--feature")
    assert result.exit_code == 0, result.output
    featured = [p.slug for p in stored_petitions(app) if p.featured]
    assert featured == ["free-the-prisoners"]
    assert client.get("/").headers["Location"].endswith("/p/free-the-prisoners")


def test_reloading_the_featured_statement_without_feature_keeps_it_featured(app, runner, tmp_path):
    load(runner, BUNDLED)
    other = write(tmp_path, "other.md", OTHER_STATEMENT)
    load(runner, other, "--feature")
    load(runner, other)
    load(runner, BUNDLED)
    assert [p.slug for p in stored_petitions(app) if p.featured] == ["free-the-prisoners"]


# `petition list` and `petition seed`


def test_list_shows_slug_title_state_and_counted_signatures(app, runner):
    load(runner, BUNDLED)
    store_signature(app, BUNDLED_SLUG, kind=Signature.INDIVIDUAL)
    store_signature(app, BUNDLED_SLUG, kind=Signature.INDIVIDUAL)
    store_signature(app, BUNDLED_SLUG, kind=Signature.ORGANIZATION, contact_name="Rosa")
    store_signature(app, BUNDLED_SLUG, status=Signature.PENDING)
    store_signature(app, BUNDLED_SLUG, status=Signature.REJECTED)

    result = runner.invoke(args=["petition", "list"])

    assert result.exit_code == 0, result.output
    [line] = result.output.splitlines()
    assert BUNDLED_SLUG in line
    assert "Solidarity with the Peruvian people" in line
    assert "open" in line.split()
    assert "total=3" in line
    assert "individuals=2" in line
    assert "organizations=1" in line


def test_list_says_closed_for_a_closed_petition(app, runner):
    load(runner, BUNDLED)
    with app.app_context():
        stored = db.session.scalar(select(Petition))
        stored.closes_at = dt.datetime(2020, 1, 1)
        db.session.commit()
    line = runner.invoke(args=["petition", "list"]).output
    assert "closed" in line
    assert "open" not in line.split()


def test_list_says_archived_for_an_archived_petition(app, runner):
    load(runner, BUNDLED)
    with app.app_context():
        db.session.scalar(select(Petition)).archived_at = dt.datetime(2024, 1, 1)
        db.session.commit()
    assert "archived" in runner.invoke(args=["petition", "list"]).output.split()


def test_list_of_an_empty_database_prints_nothing(runner):
    result = runner.invoke(args=["petition", "list"])
    assert result.exit_code == 0
    assert result.output == ""


def test_seed_loads_the_bundled_statement_into_an_empty_database(app, runner, client):
    result = runner.invoke(args=["petition", "seed"])
    assert result.exit_code == 0, result.output
    assert BUNDLED_SLUG in result.output
    [stored] = stored_petitions(app)
    assert stored.slug == BUNDLED_SLUG
    assert stored.featured
    assert client.get("/").headers["Location"].endswith(f"/p/{BUNDLED_SLUG}")


def test_seed_does_nothing_when_a_petition_exists(app, runner, tmp_path):
    load(runner, write(tmp_path, "other.md", OTHER_STATEMENT))
    result = runner.invoke(args=["petition", "seed"])
    assert result.exit_code == 0, result.output
    assert [p.slug for p in stored_petitions(app)] == ["free-the-prisoners"]


def test_seed_twice_loads_once(app, runner):
    runner.invoke(args=["petition", "seed"])
    second = runner.invoke(args=["petition", "seed"])
    assert second.exit_code == 0
    assert second.output == ""
    assert len(stored_petitions(app)) == 1


# Plain text as people write it: blank lines left out

ONE_LINE_PARAGRAPHS = """Free the Ayacucho prisoners
A statement by the Peru Solidarity Committee
Stop the repression!
Since December, hundreds of people have been arrested in the south of Peru for taking part in the protests.
Many of them are held without charge, far from their families, and their lawyers cannot see them.
RELEASE ALL THE PRISONERS NOW!
END THE STATE OF EMERGENCY!
JUSTICE FOR THE VICTIMS!
Peru Solidarity Committee
12 February 2023
"""

WRAPPED_BY_HAND = """Free the Ayacucho prisoners

Since December, hundreds of people have been arrested in the south of
Peru for taking part in the protests. Many are held without charge.
RELEASE ALL THE PRISONERS NOW!
JUSTICE FOR THE VICTIMS OF THE MASSACRE AND PUNISHMENT
OF THOSE RESPONSIBLE!
Peru Solidarity Committee
12 February 2023
"""


def test_plain_text_without_blank_lines_gives_each_line_its_place(tmp_path):
    statement = read_statement(write(tmp_path, "s.txt", ONE_LINE_PARAGRAPHS))
    assert statement["title"] == "Free the Ayacucho prisoners"
    assert statement["subtitle"].splitlines() == [
        "A statement by the Peru Solidarity Committee",
        "Stop the repression!",
    ]
    assert statement["demands"] == [
        "RELEASE ALL THE PRISONERS NOW!",
        "END THE STATE OF EMERGENCY!",
        "JUSTICE FOR THE VICTIMS!",
    ]
    assert statement["issuer"] == "Peru Solidarity Committee"
    assert statement["published_on"] == dt.date(2023, 2, 12)
    assert len(paragraphs(statement)) == 2
    assert "Peru Solidarity Committee" not in statement["body"]


def test_text_wrapped_by_hand_keeps_its_paragraph_and_demands_apart(tmp_path):
    statement = read_statement(write(tmp_path, "s.txt", WRAPPED_BY_HAND))
    assert paragraphs(statement) == [
        "Since December, hundreds of people have been arrested in the south of Peru for taking"
        " part in the protests. Many are held without charge."
    ]
    assert statement["demands"] == [
        "RELEASE ALL THE PRISONERS NOW!",
        "JUSTICE FOR THE VICTIMS OF THE MASSACRE AND PUNISHMENT OF THOSE RESPONSIBLE!",
    ]
    assert (statement["issuer"], statement["published_on"]) == (
        "Peru Solidarity Committee",
        dt.date(2023, 2, 12),
    )


@pytest.mark.skipif(not SEED.exists(), reason="no shared seed")
def test_seed_without_its_blank_lines_gives_the_same_statement(tmp_path):
    packed = "\n".join(line for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip())
    assert read_statement(write(tmp_path, "packed.txt", packed)) == read_statement(SEED)


def test_load_prints_what_it_found_and_the_slug_last(app, runner, tmp_path):
    result = load(runner, write(tmp_path, "s.txt", ONE_LINE_PARAGRAPHS))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[-1] == "free-the-ayacucho-prisoners"
    for expected in (
        "title: Free the Ayacucho prisoners",
        "subtitle: Stop the repression!",
        "demand: END THE STATE OF EMERGENCY!",
        "issuer: Peru Solidarity Committee",
        "date: 2023-02-12",
        "language: en",
        "goal: 1000",
        "confirmation: not required",
        "petition created",
    ):
        assert expected in lines


def test_load_says_when_it_found_no_demands_issuer_or_date(app, runner, tmp_path):
    result = load(runner, write(tmp_path, "s.txt", "A title\n\n" + "Some words. " * 20 + "\n"))
    assert result.exit_code == 0, result.output
    assert {"demands: none found", "issuer: none found", "date: none found"} <= set(
        result.output.splitlines()
    )


def test_load_with_slug_updates_the_petition_after_its_title_is_corrected(app, runner, tmp_path):
    assert load(runner, write(tmp_path, "s.txt", ONE_LINE_PARAGRAPHS)).exit_code == 0
    store_signature(app, "free-the-ayacucho-prisoners", name="Ana Quispe")
    corrected = ONE_LINE_PARAGRAPHS.replace("Free the Ayacucho prisoners", "Free the prisoners of Ayacucho")

    result = load(runner, write(tmp_path, "s.txt", corrected), "--slug", "free-the-ayacucho-prisoners")

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-2:] == ["petition updated", "free-the-ayacucho-prisoners"]
    [stored] = stored_petitions(app)
    assert (stored.slug, stored.title) == ("free-the-ayacucho-prisoners", "Free the prisoners of Ayacucho")
    assert stored_names(app) == ["Ana Quispe"]


def test_load_with_a_new_slug_creates_the_petition_there(app, runner, tmp_path):
    result = load(runner, write(tmp_path, "s.txt", ONE_LINE_PARAGRAPHS), "--slug", "ayacucho")
    assert result.exit_code == 0, result.output
    assert [p.slug for p in stored_petitions(app)] == ["ayacucho"]


@pytest.mark.parametrize("slug", ["Not A Slug", "a/b", "x" * 81])
def test_load_with_a_bad_slug_is_refused_and_stores_nothing(app, runner, tmp_path, slug):
    result = load(runner, write(tmp_path, "s.txt", ONE_LINE_PARAGRAPHS), "--slug", slug)
    assert result.exit_code != 0
    assert "slug" in result.output
    assert "Traceback" not in result.output
    assert stored_petitions(app) == []


def test_load_with_slug_refuses_a_translation(app, runner, tmp_path):
    assert load(runner, BUNDLED).exit_code == 0
    spanish = f"---\ntranslation_of: {BUNDLED_SLUG}\nlanguage: es\ntitle: Solidaridad\n---\nTexto.\n"
    result = load(runner, write(tmp_path, "es.md", spanish), "--slug", "another")
    assert result.exit_code != 0
    assert "translation_of" in result.output
    assert [p.slug for p in stored_petitions(app)] == [BUNDLED_SLUG]
