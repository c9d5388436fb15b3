"""The daily job: `secretariat agreements expire` records expiries once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from secretariat.agreements.models import AgreementChange, AgreementStatus, ChangeKind
from tests.agreements.conftest import days, fresh, today
from tests.agreements.factories import AgreementFactory

S = AgreementStatus


def status_changes(db) -> int:
    return db.scalar(
        select(func.count())
        .select_from(AgreementChange)
        .where(AgreementChange.kind == ChangeKind.STATUS)
    )


@pytest.mark.parametrize(
    "app_overrides",
    [{}, {"TIMEZONE": "Pacific/Kiritimati"}, {"TIMEZONE": "Pacific/Pago_Pago"}],
    ids=["UTC", "Kiritimati", "Pago_Pago"],
)
def test_expire_command_twice_records_once(db, cli):
    lapsed = [AgreementFactory(active=True, expires_on=days(-n)) for n in (1, 2, 400)]
    last_day = AgreementFactory(active=True, expires_on=today())
    signed = AgreementFactory(signed=True, signed_on=days(-30), expires_on=days(-1))
    open_ended = AgreementFactory(active=True)

    first = cli("agreements", "expire")

    assert first.exit_code == 0
    assert first.output == "3 agreement(s) recorded as expired.\n"
    for agreement in lapsed:
        agreement = fresh(db, agreement)
        assert agreement.status is S.EXPIRED
        (change,) = agreement.history
        assert (change.from_status, change.to_status, change.actor_id) == (
            S.ACTIVE,
            S.EXPIRED,
            None,
        )
    assert fresh(db, last_day).status is S.ACTIVE
    assert fresh(db, signed).status is S.SIGNED
    assert fresh(db, open_ended).status is S.ACTIVE
    recorded = status_changes(db)

    second = cli("agreements", "expire")

    assert second.output == "0 agreement(s) recorded as expired.\n"
    db.expire_all()
    assert status_changes(db) == recorded == 3


def test_expire_command_with_nothing_due(db, cli):
    AgreementFactory(active=True, expires_on=days(30))
    assert cli("agreements", "expire").output == "0 agreement(s) recorded as expired.\n"
