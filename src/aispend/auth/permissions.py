"""Roles and what each may do: the one table every route's check reads.

| permission                                              | Admin | Finance | IT  | Auditor | Member |
| ------------------------------------------------------- | ----- | ------- | --- | ------- | ------ |
| view spend, reports, exports                            | yes   | yes     | yes | yes     | no     |
| connect / disconnect providers, run syncs               | yes   | no      | yes | no      | no     |
| rates, credits, budgets, allocation rules, spend limits | yes   | yes     | no  | no      | no     |
| users and roles                                         | yes   | no      | no  | no      | no     |
| audit log                                               | yes   | no      | no  | yes     | no     |

Every role, Member included, may use its own account (sign out, switch organisation,
see the page that says whom to ask for access).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "READ_ONLY",
    "ROLE_PERMISSIONS",
    "Permission",
    "Role",
    "TokenScope",
    "permissions_of",
]


class Role(StrEnum):
    admin = "admin"
    finance_admin = "finance_admin"
    it_admin = "it_admin"
    auditor = "auditor"
    member = "member"

    @property
    def label(self) -> str:
        return {
            "admin": "Admin",
            "finance_admin": "Finance Admin",
            "it_admin": "IT Admin",
            "auditor": "Auditor",
            "member": "Member",
        }[self.value]


class Permission(StrEnum):
    use_account = "account.use"
    view_spend = "spend.view"
    manage_connections = "connections.manage"
    manage_costs = "costs.manage"
    manage_users = "users.manage"
    view_audit = "audit.view"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.admin: frozenset(Permission),
    Role.finance_admin: frozenset({Permission.use_account, Permission.view_spend, Permission.manage_costs}),
    Role.it_admin: frozenset({Permission.use_account, Permission.view_spend, Permission.manage_connections}),
    Role.auditor: frozenset({Permission.use_account, Permission.view_spend, Permission.view_audit}),
    Role.member: frozenset({Permission.use_account}),
}

# What a read-only API token may do, whatever its owner's role allows beyond.
READ_ONLY = frozenset({Permission.use_account, Permission.view_spend, Permission.view_audit})


class TokenScope(StrEnum):
    read = "read"
    full = "full"


def permissions_of(role: Role, scope: TokenScope = TokenScope.full) -> frozenset[Permission]:
    """A role's permissions, narrowed to read-only ones for a read-only token."""
    granted = ROLE_PERMISSIONS[role]
    return granted & READ_ONLY if scope is TokenScope.read else granted
