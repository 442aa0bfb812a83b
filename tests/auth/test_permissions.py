"""The role table is exactly the issue's matrix, and token scopes only ever narrow it."""

from __future__ import annotations

import pytest

from aispend.auth.permissions import READ_ONLY, ROLE_PERMISSIONS, Permission, Role, TokenScope, permissions_of

P = Permission
# The matrix of issue 7, row by row: Admin, Finance Admin, IT Admin, Auditor, Member.
MATRIX = {
    P.view_spend: (1, 1, 1, 1, 0),
    P.manage_connections: (1, 0, 1, 0, 0),
    P.manage_costs: (1, 1, 0, 0, 0),
    P.manage_users: (1, 0, 0, 0, 0),
    P.view_audit: (1, 0, 0, 1, 0),
    P.use_account: (1, 1, 1, 1, 1),
}
ROLES = (Role.admin, Role.finance_admin, Role.it_admin, Role.auditor, Role.member)


@pytest.mark.parametrize("permission", list(Permission))
def test_each_permission_is_granted_exactly_as_the_matrix_says(permission: Permission) -> None:
    granted = tuple(int(permission in ROLE_PERMISSIONS[role]) for role in ROLES)
    assert granted == MATRIX[permission]


def test_every_role_is_in_the_table() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)


@pytest.mark.parametrize("role", list(Role))
def test_a_token_never_exceeds_its_owners_role(role: Role) -> None:
    assert permissions_of(role, TokenScope.full) == ROLE_PERMISSIONS[role]
    assert permissions_of(role, TokenScope.read) == ROLE_PERMISSIONS[role] & READ_ONLY
    assert not permissions_of(role, TokenScope.read) & {P.manage_connections, P.manage_costs, P.manage_users}
