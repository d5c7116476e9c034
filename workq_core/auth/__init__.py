"""The auth service: users, passwords, tokens, its GraphQL API and its gRPC server."""

from workq_core.auth.runner import (
    AuthServiceHandle,
    build_auth_service,
    create_auth_app,
    start_auth_service,
)
from workq_core.auth.service import AuthService
from workq_core.auth.users import User

__all__ = [
    "AuthService",
    "AuthServiceHandle",
    "User",
    "build_auth_service",
    "create_auth_app",
    "start_auth_service",
]
