"""The PolicyVersions contract (mixed into the store contract: SQLite and PostgreSQL): the
latest version is in force, a version replaces only the one it says it replaces, and a version
is stored once."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from guardian.adapters.sql.policy_versions import SqlPolicyVersions
from guardian.errors import PolicyConflict
from guardian.policy.versions import PolicyVersion

FILES = {"model.conf": "[request_definition]\n", "policy.csv": "p, a, crm, contact, read, x\n",
         "guardian.yaml": "roles: {a: {}}\n"}


def _version(name: str, previous: str | None) -> PolicyVersion:
    return PolicyVersion(f"sha256:{name}", {**FILES, "policy.csv": f"# {name}\n"}, 1.5, "ivan",
                         previous)


class PolicyVersionsContract:
    def test_the_latest_version_applied_is_in_force(self, engine: Engine, worker2: Engine
                                                     ) -> None:
        versions = SqlPolicyVersions(engine)
        assert versions.latest_policy() is None
        versions.add_policy(_version("one", "sha256:files"))
        versions.add_policy(_version("two", "sha256:one"))
        latest = SqlPolicyVersions(worker2).latest_policy()
        assert latest == _version("two", "sha256:one")
        assert [v.version for v in versions.history()] == ["sha256:two", "sha256:one"]

    def test_a_version_replacing_another_than_the_latest_is_refused(self, engine: Engine
                                                                    ) -> None:
        versions = SqlPolicyVersions(engine)
        versions.add_policy(_version("one", None))
        versions.add_policy(_version("two", "sha256:one"))
        with pytest.raises(PolicyConflict):
            versions.add_policy(_version("three", "sha256:one"))
        with pytest.raises(PolicyConflict):
            versions.add_policy(_version("one", "sha256:two"))
        assert versions.latest_policy() == _version("two", "sha256:one")
