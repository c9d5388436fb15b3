"""The migrations build the schema, match the models, and go down and up again."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from secretariat.cli import alembic_config


def test_upgrade_check_downgrade_upgrade(engine, database_url):
    config = alembic_config(database_url)
    # The session fixture already ran `upgrade head`; the models must match it exactly.
    command.check(config)
    command.downgrade(config, "base")
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert tables == set()
    command.upgrade(config, "head")
    command.check(config)
    assert {"members", "contacts", "users", "login_tokens", "terms", "funders"} <= set(
        inspect(engine).get_table_names()
    )


def test_db_check_command(cli):
    result = cli("db", "check")
    assert result.exit_code == 0, result.output
    assert "agree" in result.output
