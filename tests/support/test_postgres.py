"""The private PostgreSQL's system user: made once, found by a test process that lost the race."""

from __future__ import annotations

import os
import pwd

import pytest

from tests.support.postgres import SYSTEM_USER, PrivatePostgres

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the system user exists only as root")


def test_a_process_that_loses_the_useradd_race_finds_the_user(tmp_path):
    server = PrivatePostgres(tmp_path)
    server._grant_system_user()  # the first process makes it (or finds it)
    made = pwd.getpwnam(SYSTEM_USER)
    # the losers of a race run useradd on a user that exists now: refused, and not an error
    assert server._create_system_user().pw_uid == made.pw_uid
    assert os.stat(tmp_path).st_uid == made.pw_uid
