"""Command-line tools: ``flask --app wsgi petition|organizer|signatures …``."""

import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from .extensions import db
from .mail.sender import run_worker, send_due, unsent_count
from .models import Petition, count_signatures
from .organizers.auth import create_organizer
from .organizers.export import iter_csv
from .petitions import services
from .petitions.importer import StatementError, read_statement
from .signing.privacy import petitions_to_purge, purge_petition

petition_cli = AppGroup("petition", help="Load and list petitions.")
organizer_cli = AppGroup("organizer", help="Manage organizer accounts.")
signatures_cli = AppGroup("signatures", help="Work with signatures.")
mail_cli = AppGroup("mail", help="Deliver the email outbox.")


@petition_cli.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--feature", is_flag=True, help="Make it the petition the home page shows.")
def load_command(path, feature):
    """Create or update the petition that PATH describes; print its slug."""
    try:
        statement = read_statement(path)
    except (StatementError, UnicodeDecodeError) as error:
        raise click.ClickException(f"{path}: {error}") from error
    petition, _created = services.load_petition(statement, feature=feature)
    db.session.commit()
    click.echo(petition.slug)


@petition_cli.command("seed")
def seed_command():
    """Load the bundled statement when the database holds no petition."""
    if db.session.scalar(select(Petition.id).limit(1)) is not None:
        return
    petition, _created = services.load_petition(
        read_statement(current_app.config["BUNDLED_STATEMENT"]), feature=True
    )
    db.session.commit()
    click.echo(f"loaded {petition.slug}")


@petition_cli.command("list")
def list_command():
    """Slug, title, open or closed, and counts of every petition."""
    for petition in db.session.scalars(select(Petition).order_by(Petition.created_at, Petition.id)):
        counts = count_signatures(petition)
        state = "open" if petition.is_open else "closed"
        featured = " featured" if petition.featured else ""
        click.echo(
            f"{petition.slug}\t{petition.title}\t{state}{featured}\t"
            f"total={counts['total']} individuals={counts['individuals']} "
            f"organizations={counts['organizations']}"
        )


@organizer_cli.command("create")
@click.argument("email")
def create_organizer_command(email):
    """Create an organizer (or reset the password); the password is asked for, or read from stdin."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        organizer = create_organizer(email, password)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"organizer {organizer.email} ready")


@signatures_cli.command("export")
@click.argument("slug")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8", lazy=True), default="-")
def export_command(slug, output):
    """Write the signatory CSV of the petition SLUG (to stdout, or -o FILE)."""
    petition = db.session.scalar(select(Petition).where(Petition.slug == slug))
    if petition is None:
        raise click.ClickException(f"no petition with slug {slug!r}")
    for chunk in iter_csv(petition):
        output.write(chunk)


@signatures_cli.command("purge")
@click.option("--days", type=int, default=None, help="Days after closing (default: PURGE_AFTER_DAYS).")
def purge_command(days):
    """Anonymize the personal data of petitions closed more than DAYS days ago."""
    days = current_app.config["PURGE_AFTER_DAYS"] if days is None else days
    for petition in petitions_to_purge(days):
        touched = purge_petition(petition)
        click.echo(f"{petition.slug}: {touched} signatures anonymized")
    db.session.commit()


@mail_cli.command("send")
@click.option("--loop", is_flag=True, help="Keep running, sending new mail as it is queued.")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between passes with --loop.")
def send_mail_command(loop, interval):
    """Send the emails that are due (once, or as a worker with --loop)."""
    if loop:
        run_worker(interval=interval)
        return
    sent, failed = send_due(limit=10_000)
    click.echo(f"sent {sent}, failed {failed}, waiting {unsent_count()}")


def register(app):
    for group in (petition_cli, organizer_cli, signatures_cli, mail_cli):
        app.cli.add_command(group)
