"""Commands to import and export members and contacts (CSV or XLSX by file extension)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from secretariat.db import get_db
from secretariat.members import transfer
from secretariat.tabular import TableError, format_of, read_table, write_table


@click.group("import")
def import_group() -> None:
    """Import members or contacts from a CSV or XLSX file."""


@click.group("export")
def export_group() -> None:
    """Export members or contacts to a CSV or XLSX file."""


def _import(what: str, path: Path, dry_run: bool) -> None:
    try:
        table = read_table(path.read_bytes(), path.name)
    except TableError as exc:
        click.echo(f"{path}: {exc.message}", err=True)
        sys.exit(1)
    with get_db().transaction() as session:
        plan = transfer.plan_import(session, what, table)
        if not plan.ok:
            click.echo(f"{path}: nothing imported; {len(plan.errors)} problem(s):", err=True)
            for error in plan.errors:
                click.echo(f"  row {error.row}, column {error.column}: {error.message}", err=True)
            sys.exit(1)
        if not dry_run:
            transfer.apply_plan(session, None, plan)
        else:
            session.rollback()
    verb = "would be" if dry_run else "were"
    click.echo(
        f"{len(plan.creates)} {what} {verb} added, {len(plan.updates)} changed, "
        f"{plan.unchanged} unchanged."
    )


_file = click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
_dry_run = click.option("--dry-run", is_flag=True, help="Validate and report, write nothing.")


@import_group.command("members")
@_file
@_dry_run
@with_appcontext
def import_members(file: Path, dry_run: bool) -> None:
    """Import members; rows are matched by slug."""
    _import("members", file, dry_run)


@import_group.command("contacts")
@_file
@_dry_run
@with_appcontext
def import_contacts(file: Path, dry_run: bool) -> None:
    """Import contacts; rows are matched by member and e-mail (or name)."""
    _import("contacts", file, dry_run)


def _export(what: str, path: Path) -> None:
    try:
        fmt = format_of(path.name)
    except TableError as exc:
        click.echo(exc.message, err=True)
        sys.exit(1)
    with get_db().transaction() as session:
        if what == "members":
            headers, rows = transfer.MEMBER_COLUMNS, transfer.member_rows(session)
        else:
            headers, rows = transfer.CONTACT_COLUMNS, transfer.contact_rows(session)
    write_table(path, fmt, headers, rows)
    click.echo(f"Wrote {len(rows)} {what} to {path}.")


_out = click.argument("file", type=click.Path(dir_okay=False, path_type=Path))


@export_group.command("members")
@_out
@with_appcontext
def export_members(file: Path) -> None:
    """Export every member."""
    _export("members", file)


@export_group.command("contacts")
@_out
@with_appcontext
def export_contacts(file: Path) -> None:
    """Export every contact, past ones included."""
    _export("contacts", file)
