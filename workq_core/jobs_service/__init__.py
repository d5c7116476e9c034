"""The jobs service: job types, submission and job tracking over GraphQL at ``/graphql``."""

from workq_core.jobs_service.api import JobsApi
from workq_core.jobs_service.runner import (
    JobsServiceHandle,
    create_jobs_app,
    jobs_schema,
    start_jobs_service,
)

__all__ = [
    "JobsApi",
    "JobsServiceHandle",
    "create_jobs_app",
    "jobs_schema",
    "start_jobs_service",
]
