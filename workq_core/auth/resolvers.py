"""GraphQL resolvers of the auth schema, bound by name in ``schema.graphql``."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from workq_core.auth.service import AuthService
from workq_core.auth.users import User
from workq_core.web import RequestContext, Resolvers


def _service(info: GraphQLResolveInfo) -> AuthService:
    return info.context.extra["auth"]


def _context(info: GraphQLResolveInfo) -> RequestContext:
    return info.context


def create_user(_root: Any, info: GraphQLResolveInfo, createUserInput: dict[str, str]) -> User:
    return _service(info).create_user(createUserInput["email"], createUserInput["password"])


def login(_root: Any, info: GraphQLResolveInfo, loginInput: dict[str, str]) -> User:
    ctx = _context(info)
    user, token = _service(info).login(loginInput["email"], loginInput["password"], ctx.client_addr)
    ctx.set_auth_cookie(token.token, token.expires_in_s)
    return user


def logout(_root: Any, info: GraphQLResolveInfo) -> bool:
    ctx = _context(info)
    _service(info).logout(ctx.require_user())
    ctx.clear_auth_cookie()
    return True


def change_password(
    _root: Any,
    info: GraphQLResolveInfo,
    changePasswordInput: dict[str, str],
) -> bool:
    ctx = _context(info)
    token = _service(info).change_password(
        ctx.require_user(),
        changePasswordInput["currentPassword"],
        changePasswordInput["newPassword"],
    )
    ctx.set_auth_cookie(token.token, token.expires_in_s)
    return True


def users(_root: Any, info: GraphQLResolveInfo) -> list[User]:
    _context(info).require_user()
    return _service(info).users.all()


def me(_root: Any, info: GraphQLResolveInfo) -> User:
    return _context(info).require_user()


RESOLVERS: Resolvers = {
    "Query": {"users": users, "me": me},
    "Mutation": {
        "createUser": create_user,
        "login": login,
        "logout": logout,
        "changePassword": change_password,
    },
}
