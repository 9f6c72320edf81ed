"""Audit entries are append-only: triggers refuse UPDATE, DELETE (and TRUNCATE on PostgreSQL).

Revision ID: ae61cdc23f1a
Revises: 4a50158b4948
Create Date: 2026-11-22 08:42:35.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'ae61cdc23f1a'
down_revision: str | None = '4a50158b4948'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The message names the table and the refused operation; restrict_violation (23001) on
# PostgreSQL and RAISE(ABORT) on SQLite both reach the application as an IntegrityError.
PG_FUNCTION = """
CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_entries is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries "
            "FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()"
        )
    elif op.get_bind().dialect.name == "sqlite":
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_entries_no_{operation.lower()} BEFORE {operation} ON audit_entries "
                f"BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only: {operation} refused'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_truncate ON audit_entries")
        op.execute("DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries")
        op.execute("DROP FUNCTION IF EXISTS audit_entries_append_only()")
    elif op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_delete")
