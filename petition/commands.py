"""Command-line tools: ``flask --app wsgi petition|organizer|signatures …``."""

import os
import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from .countries import country_names
from .extensions import db
from .mail.sender import send_due, unsent_count
from .mail.workers import run_workers
from .models import Invalidation, Organizer, OrganizerRole, Petition, Signature, count_signatures
from .organizers import audit, invalidation, roles, signature_import
from .organizers.audit import COMMAND_LINE, record_export
from .organizers.auth import create_organizer
from .organizers.export import count_rows, iter_csv
from .organizers.forms import FIRST_DAY, LAST_DAY
from .organizers.import_forms import DEFAULT_SOURCE
from .petitions import services
from .petitions.importer import StatementError, check_statement, read_statement
from .recount import recount
from .signing.forms import SOURCE
from .signing.privacy import purge

petition_cli = AppGroup("petition", help="Load and list petitions.")
organizer_cli = AppGroup("organizer", help="Manage organizer accounts.")
signatures_cli = AppGroup("signatures", help="Work with signatures.")
mail_cli = AppGroup("mail", help="Deliver the email outbox.")


@petition_cli.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--slug",
    help="The petition to create or update, whatever the file says (e.g. after a new title).",
)
@click.option("--feature", is_flag=True, help="Make it the petition the home page shows.")
def load_command(path, slug, feature):
    """Create or update the petition that PATH describes; print what was found, its slug last."""
    try:
        statement = read_statement(path)
        if slug is not None:
            if statement.get("translation_of"):
                raise StatementError("a translation names its petition with translation_of, not --slug")
            statement = check_statement({**statement, "slug": slug})
        # A translation (translation_of: <slug>) is refused here when its petition is missing.
        petition, created = services.load_petition(statement, feature=feature)
    except (StatementError, UnicodeDecodeError) as error:
        raise click.ClickException(f"{path}: {error}") from error
    db.session.commit()
    for line in found_lines(statement, petition, created):
        click.echo(line)
    click.echo(petition.slug)


def found_lines(statement: dict, petition: Petition, created: bool) -> list[str]:
    """What ``petition load`` read from the file, for the organizer to check at a glance."""
    published = statement.get("published_on")
    lines = [f"title: {statement['title']}"]
    lines += [f"subtitle: {line}" for line in statement["subtitle"].splitlines() if line.strip()]
    lines += [f"demand: {demand}" for demand in statement["demands"]] or ["demands: none found"]
    lines += [
        f"issuer: {statement.get('issuer') or 'none found'}",
        f"date: {published.isoformat() if published else 'none found'}",
        f"language: {statement['language']}",
        f"goal: {petition.goal}",
        f"confirmation: {'required' if petition.requires_confirmation else 'not required'}",
    ]
    what = (
        f"translation into {statement['language']} of {petition.slug}"
        if "translation_of" in statement
        else "petition"
    )
    lines.append(f"{what} {'created' if created else 'updated'}")
    return lines


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
        featured += " archived" if petition.archived_at else ""
        click.echo(
            f"{petition.slug}\t{petition.title}\t{state}{featured}\t"
            f"total={counts['total']} individuals={counts['individuals']} "
            f"organizations={counts['organizations']}"
        )


@organizer_cli.command("create")
@click.argument("email")
@click.option("--no-admin", is_flag=True, help="No site administration: roles are granted one by one.")
def create_organizer_command(email, no_admin):
    """Create an organizer (or reset the password); the password is asked for, or read from stdin.
    The account administers the whole site unless --no-admin is given."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        organizer = create_organizer(email, password, admin=not no_admin)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    audit.record("account.create", account=organizer.email, admin=organizer.is_admin, actor=COMMAND_LINE)
    db.session.commit()
    kind = "administrator" if organizer.is_admin else "organizer with no role yet"
    click.echo(f"organizer {organizer.email} ready ({kind})")


def account_and_petition(email, slug):
    """The organizer with ``email`` and the petition at ``slug``, or a clear error."""
    organizer = roles.find_organizer(email)
    if organizer is None:
        raise click.ClickException(f"no organizer with email {email!r} (see: organizer list)")
    petition = roles.find_petition(slug)
    if petition is None:
        raise click.ClickException(f"no petition with slug {slug!r} (see: petition list)")
    return organizer, petition


@organizer_cli.command("grant")
@click.argument("email")
@click.argument("slug")
@click.argument("role", type=click.Choice(OrganizerRole.ROLES))
def grant_command(email, slug, role):
    """Give the organizer EMAIL the ROLE on the petition SLUG, replacing any role held there."""
    organizer, petition = account_and_petition(email, slug)
    roles.grant_role(organizer, petition, role, may_leave_no_owner=True, actor=COMMAND_LINE)
    db.session.commit()
    click.echo(f"{organizer.email} is {role} on {petition.slug}")


@organizer_cli.command("revoke")
@click.argument("email")
@click.argument("slug")
def revoke_command(email, slug):
    """Take away the role of the organizer EMAIL on the petition SLUG."""
    organizer, petition = account_and_petition(email, slug)
    if not roles.revoke_role(organizer, petition, may_leave_no_owner=True, actor=COMMAND_LINE):
        raise click.ClickException(f"{organizer.email} holds no role on {petition.slug}")
    db.session.commit()
    click.echo(f"{organizer.email} holds no role on {petition.slug} now")


@organizer_cli.command("list")
def list_organizers_command():
    """Each organizer's email, then "admin" or their roles as SLUG:ROLE."""
    organizers = db.session.scalars(select(Organizer).order_by(Organizer.email)).all()
    held = db.session.execute(
        select(OrganizerRole.organizer_id, Petition.slug, OrganizerRole.role)
        .join(Petition, Petition.id == OrganizerRole.petition_id)
        .order_by(Petition.slug)
    ).all()
    for organizer in organizers:
        mine = [f"{slug}:{role}" for organizer_id, slug, role in held if organizer_id == organizer.id]
        what = ["admin"] if organizer.is_admin else []
        click.echo("\t".join([organizer.email, " ".join(what + mine) or "no role"]))


def country_code(ctx, param, value):
    """``--country``: an ISO 3166-1 alpha-2 code in either case, as the download accepts."""
    if not value:
        return None
    if value.strip().upper() not in country_names():
        raise click.BadParameter(f"{value!r} is not an ISO 3166-1 alpha-2 country code (e.g. PE)")
    return value.strip().upper()


DAY = click.DateTime(["%Y-%m-%d"])


def plausible_day(ctx, param, value):
    """``--since``/``--until``: a day the download's filters accept too (see FIRST_DAY)."""
    if value is None:
        return None
    if not FIRST_DAY <= value.date() <= LAST_DAY:
        raise click.BadParameter(f"{value.date()} is not a day between {FIRST_DAY} and {LAST_DAY}")
    return value.date()


@signatures_cli.command("export")
@click.argument("slug")
@click.option("-o", "--output", type=click.File("wb", lazy=True), default="-")
@click.option("--kind", type=click.Choice(Signature.KINDS), help="Only individuals or only organizations.")
@click.option("--status", type=click.Choice(Signature.STATUSES), help="Only signatures in this state.")
@click.option("--country", callback=country_code, help="Only this country (ISO code, e.g. PE).")
@click.option(
    "--since",
    type=DAY,
    metavar="YYYY-MM-DD",
    callback=plausible_day,
    help="Signed on this UTC day or later.",
)
@click.option(
    "--until",
    type=DAY,
    metavar="YYYY-MM-DD",
    callback=plausible_day,
    help="Signed on this UTC day or earlier.",
)
def export_command(slug, output, kind, status, country, since, until):
    """Write the signatory CSV of the petition SLUG (to stdout, or -o FILE); the options keep
    only the signatures that match, as the filters of the download do."""
    if since and until and until < since:
        raise click.BadParameter("the last day comes before --since", param_hint="'--until'")
    petition = db.session.scalar(select(Petition).where(Petition.slug == slug))
    if petition is None:
        raise click.ClickException(f"no petition with slug {slug!r}")
    criteria = {"kind": kind, "status": status, "country": country, "since": since, "until": until}
    criteria = {name: value for name, value in criteria.items() if value}
    record_export(petition, "csv", criteria, count_rows(petition, **criteria), actor=COMMAND_LINE)
    db.session.commit()
    for chunk in iter_csv(petition, **criteria):
        output.write(chunk)


def clean_source_option(ctx, param, value):
    """``--source``: a word the ``source`` column may hold (see SOURCE)."""
    value = value.strip().lower()
    if not SOURCE.fullmatch(value):
        raise click.BadParameter("use up to 40 lower-case letters, digits, dots, hyphens or underscores")
    return value


@signatures_cli.command("import")
@click.argument("slug")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--source",
    default=DEFAULT_SOURCE,
    show_default=True,
    callback=clean_source_option,
    help="Where these signatures come from (e.g. paper), for rows without a source of their own.",
)
@click.option("--dry-run", is_flag=True, help="Check the file and say what would be added; store nothing.")
def import_command(slug, path, source, dry_run):
    """Add the signatures of the CSV file PATH (the export's column names, at least
    kind,name,country) to the petition SLUG, counted at once. A file with any bad row is refused
    whole, each problem on stderr with its line number; importing a file again adds nothing."""
    petition = db.session.scalar(select(Petition).where(Petition.slug == slug))
    if petition is None:
        raise click.ClickException(f"no petition with slug {slug!r}")
    with open(path, "rb") as file:
        checked = signature_import.check_file(petition, file.read(), source)
    if checked.problems:
        for problem in checked.problems:
            click.echo(f"{path}: {problem}", err=True)
        raise click.ClickException(f"{path}: refused, nothing is stored ({len(checked.problems)} problems)")
    done = signature_import.store(petition, checked, dry_run=dry_run)
    if dry_run:
        db.session.rollback()
        click.echo(
            f"dry run: nothing is stored; {done.added} would be added, {done.already} are there already"
        )
        return
    audit.record(
        "import",
        petition,
        rows=done.added,
        source=source,
        filename=os.path.basename(path),
        actor=COMMAND_LINE,
    )
    db.session.commit()
    click.echo(f"{done.added} added to {petition.slug}, {done.already} there already")


@signatures_cli.command("purge")
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=None,
    help="Days after closing before a petition's signers are anonymized (default: PURGE_AFTER_DAYS).",
)
@click.option("--dry-run", is_flag=True, help="Print what the purge would do; change nothing.")
def purge_command(days, dry_run):
    """Apply the retention rules now: delete unconfirmed signatures whose link has expired,
    anonymize the signers of petitions closed DAYS days ago and, on petitions without a closing
    date, those who signed longer ago than the petition's retention, and delete the copies of
    old sent emails. Prints what it did (or, with --dry-run, would do), petition by petition."""
    report = purge(closed_days=days, dry_run=dry_run)
    if dry_run:
        db.session.rollback()
        click.echo("dry run: nothing is changed; the purge would do this:")
    else:
        db.session.commit()
    for line in report.lines():
        click.echo(line)


def moment(ctx, param, value):
    """``--since``/``--until`` of an invalidation: a UTC day or an ISO 8601 moment, kept as given."""
    if not value:
        return None
    try:
        invalidation.parse_moment(value)
    except ValueError as error:
        raise click.BadParameter(
            f"{value!r} is not a day (YYYY-MM-DD) or a moment (YYYY-MM-DDTHH:MM:SS)"
        ) from error
    return value.strip()


def find_petition(slug):
    petition = db.session.scalar(select(Petition).where(Petition.slug == slug))
    if petition is None:
        raise click.ClickException(f"no petition with slug {slug!r}")
    return petition


@signatures_cli.command("invalidate")
@click.argument("slug")
@click.option("--domain", help="Email addresses at this domain (e.g. example.com).")
@click.option("--network", help="Networks whose hash starts with this (as the dashboard shows them).")
@click.option(
    "--since", callback=moment, metavar="T", help="Signed at T or later (YYYY-MM-DD or ISO 8601, UTC)."
)
@click.option("--until", callback=moment, metavar="T", help="Signed before T, or on day T (UTC).")
@click.option("--country", callback=country_code, help="Signers from this country (ISO code, e.g. PE).")
@click.option("--name", help="Names containing this (any case; * matches any characters).")
@click.option("--source", help="Signatures that came by this source (the share link's source).")
@click.option("--status", type=click.Choice(invalidation.SELECTABLE), help="Signatures in this state.")
@click.option(
    "--category", type=click.Choice(Invalidation.CATEGORIES), default=Invalidation.OTHER, show_default=True
)
@click.option("--reason", required=True, help="Why, in a few words: kept with the invalidation.")
@click.option("--all", "everything", is_flag=True, help="Invalidate every signature when no filter is given.")
@click.option("--dry-run", is_flag=True, help="Print how many signatures match; change nothing.")
def invalidate_command(slug, category, reason, everything, dry_run, **criteria):
    """Invalidate the signatures of SLUG that match every filter given: they stop counting and
    leave the public list, stay in the export as invalidated, and can be restored (signatures
    restore). Prints how many match. Without a filter it refuses, unless --all."""
    petition = find_petition(slug)
    criteria = {name: value for name, value in criteria.items() if value}
    if not criteria and not everything:
        raise click.UsageError("give at least one filter, or --all to invalidate every signature")
    if not reason.strip() or len(reason.strip()) > 500:
        raise click.BadParameter("say why, in at most 500 characters", param_hint="'--reason'")
    matching = invalidation.count_matching(petition, criteria)
    click.echo(f"{matching} signatures match")
    if dry_run:
        db.session.rollback()
        click.echo("dry run: nothing is changed")
        return
    done = invalidation.invalidate(petition, criteria, category, reason, actor="command line")
    click.echo(f"invalidation {done.id}: {done.rows} signatures invalidated")


@signatures_cli.command("invalidations")
@click.argument("slug")
def invalidations_command(slug):
    """List the invalidations of SLUG, newest first: id, when, category, signatures, reason."""
    for each in invalidation.invalidations(find_petition(slug), limit=None):
        undone = f"\tundone {each.undone_at:%Y-%m-%dT%H:%M:%SZ}" if each.undone_at else ""
        click.echo(
            f"{each.id}\t{each.created_at:%Y-%m-%dT%H:%M:%SZ}\t{each.category}\t{each.rows}\t{each.reason}{undone}"
        )


@signatures_cli.command("restore")
@click.argument("invalidation_id", type=int)
def restore_command(invalidation_id):
    """Undo the invalidation INVALIDATION_ID (see signatures invalidations): its signatures get
    back the status they had."""
    found = db.session.get(Invalidation, invalidation_id)
    if found is None:
        raise click.ClickException(f"no invalidation {invalidation_id}")
    restored = invalidation.undo(found, actor="command line")
    if restored is None:
        raise click.ClickException(f"invalidation {invalidation_id} was undone already")
    click.echo(f"invalidation {invalidation_id} undone: {restored} signatures restored")


@signatures_cli.command("recount")
@click.argument("slug", required=False)
def recount_command(slug):
    """Check the kept counts of SLUG (or of every petition) against the signatures; print and
    log any drift, and fix it."""
    petitions = (
        [find_petition(slug)] if slug else db.session.scalars(select(Petition).order_by(Petition.id)).all()
    )
    drifts = 0
    for petition in petitions:
        for line in recount(petition):
            click.echo(f"drift: {line}")
            drifts += 1
    click.echo(f"recounted {len(petitions)} petitions, {drifts} drifts fixed")


@mail_cli.command("send")
@click.option("--loop", is_flag=True, help="Keep running, sending new mail as it is queued.")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between passes with --loop.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Sender processes with --loop (default: MAIL_WORKERS, else one per CPU).",
)
def send_mail_command(loop, interval, workers):
    """Send the emails that are due (once, or as a worker with --loop)."""
    if loop:
        run_workers(workers or current_app.config["MAIL_WORKERS"] or os.cpu_count() or 1, interval)
        return
    sent, failed = send_due(limit=10_000)
    click.echo(f"sent {sent}, failed {failed}, waiting {unsent_count()}")


def register(app):
    for group in (petition_cli, organizer_cli, signatures_cli, mail_cli):
        app.cli.add_command(group)
