"""The SQL boundary: any SQLAlchemy error leaving a ``translated`` block is ``StoreUnavailable``
(its cause kept, its message naming only the kind of error, never the statement, its
parameters or the URL's password); anything else passes through untouched."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from guardian.adapters.sql.errors import translated
from guardian.errors import StoreUnavailable


def test_a_driver_error_becomes_store_unavailable_naming_its_kind_only() -> None:
    vendor = OperationalError("SELECT * FROM grants WHERE token = 's3cr3t'",
                              {"password": "hunter2"}, Exception("could not connect"))
    with pytest.raises(StoreUnavailable) as caught, translated():
        raise vendor

    assert caught.value.message == "store error: OperationalError"
    assert caught.value.code == "store_unavailable"
    assert caught.value.__cause__ is vendor
    for secret in ("s3cr3t", "hunter2", "SELECT", "could not connect"):
        assert secret not in str(caught.value)


@pytest.mark.parametrize("vendor", [IntegrityError("INSERT", {}, Exception("dup")),
                                    SQLAlchemyError("anything of SQLAlchemy")])
def test_every_sqlalchemy_error_is_translated(vendor: SQLAlchemyError) -> None:
    with pytest.raises(StoreUnavailable, match=type(vendor).__name__), translated():
        raise vendor


def test_a_real_failing_statement_is_translated() -> None:
    engine = create_engine("sqlite://")
    with pytest.raises(StoreUnavailable, match="OperationalError"), translated(), \
            engine.connect() as connection:
        connection.execute(text("SELECT secret_column FROM no_such_table"))


def test_errors_that_are_not_sqlalchemy_s_pass_through_unchanged() -> None:
    with pytest.raises(ValueError, match="not a store error"), translated():
        raise ValueError("not a store error")
    with pytest.raises(StoreUnavailable, match="already typed"), translated():
        raise StoreUnavailable("already typed")


def test_a_block_that_succeeds_is_left_alone() -> None:
    with translated() as nothing:
        done = 1 + 1
    assert nothing is None and done == 2
