"""The root Dockerfile (and compose/openldap/Dockerfile), checked without Docker: named stages,
an unprivileged final user, pinned base images, sources that the build context (after
.dockerignore) really holds, and the wheel the builder stage makes — built here from exactly
the files the Dockerfile copies — carrying the Alembic migrations and py.typed."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from deploy_support import (
    COMPOSE_DIR,
    ROOT,
    dockerfile_problems,
    dockerignore_patterns,
    dockerignored,
    parse_dockerfile,
)

DOCKERFILE = ROOT / "Dockerfile"
INSTRUCTIONS = parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))


def builder_copies() -> list[str]:
    """Sources of the COPY instructions of the builder stage (the wheel's inputs)."""
    sources, stage = [], 0
    for keyword, args in INSTRUCTIONS:
        if keyword == "FROM":
            stage += 1
        elif keyword == "COPY" and stage == 1:
            sources.extend(args.split()[:-1])
    return sources


def test_the_image_is_multi_stage_unprivileged_and_pinned() -> None:
    assert dockerfile_problems(DOCKERFILE.read_text(encoding="utf-8"), min_stages=2) == []
    stages = [args.split()[-1] for keyword, args in INSTRUCTIONS if keyword == "FROM"]
    assert stages == ["builder", "runtime"]
    runs = [args for keyword, args in INSTRUCTIONS if keyword == "RUN"]
    assert "pip wheel --no-deps . -w /dist" in runs
    env = " ".join(args for keyword, args in INSTRUCTIONS if keyword == "ENV")
    assert "GUARDIAN_DEMO=false" in env
    assert INSTRUCTIONS[-1] == ("CMD", '["guardian", "serve", "--host", "0.0.0.0"]')
    assert any(keyword == "HEALTHCHECK" for keyword, _ in INSTRUCTIONS)


def test_the_openldap_image_is_unprivileged_and_pinned() -> None:
    assert dockerfile_problems(
        (COMPOSE_DIR / "openldap" / "Dockerfile").read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(("text", "problem"), [
    ("FROM python:latest AS b\nFROM python:3.11-slim AS r\nUSER app\n", "the latest tag"),
    ("FROM python AS b\nFROM python:3.11-slim AS r\nUSER app\n", "no tag"),
    ("FROM python:3.11-slim AS b\nFROM python:3.11-slim AS r\nUSER 0:0\n", "runs as 0"),
    ("FROM python:3.11-slim AS b\nUSER app\nFROM python:3.11-slim AS r\n", "sets no USER"),
    ("FROM python:3.11-slim\nFROM python:3.11-slim AS r\nUSER app\n", "needs a name"),
    ("FROM python:3.11-slim AS r\nCOPY --from=build /d /d\nUSER app\n", "no such earlier"),
    ("FROM python:3.11-slim AS r\nUSER app\n", "expected at least 2"),
], ids=["latest", "untagged", "root-user", "no-user", "unnamed-stage", "unknown-stage",
        "single-stage"])
def test_the_dockerfile_check_catches_a_broken_image(text: str, problem: str) -> None:
    assert any(problem in p for p in dockerfile_problems(text, min_stages=2))


def test_every_copied_source_exists_and_is_in_the_build_context() -> None:
    patterns = dockerignore_patterns(ROOT / ".dockerignore")
    copies = [args.split() for keyword, args in INSTRUCTIONS
              if keyword == "COPY" and "--from=" not in args]
    assert copies
    for *sources, _ in copies:
        for source in sources:
            assert (ROOT / source).exists(), source
            assert not dockerignored(patterns, source.rstrip("/")), f"{source} is dockerignored"
    for kept_out in (".venv/bin/python", "var/guardian.db", "compose/.env", ".git/config",
                     "tests/conftest.py", ".services/slapd/slapd.conf"):
        assert dockerignored(patterns, kept_out), kept_out
    assert dockerignored(patterns, "src/guardian/__pycache__/config.cpython-311.pyc")
    assert not dockerignored(patterns, "src/guardian/adapters/sql/migrations/env.py")


def test_the_builder_stage_makes_a_wheel_with_the_migrations_and_py_typed(
        tmp_path: Path) -> None:
    context = tmp_path / "context"
    context.mkdir()
    patterns = dockerignore_patterns(ROOT / ".dockerignore")
    for source in builder_copies():
        origin = ROOT / source
        if origin.is_dir():
            shutil.copytree(origin, context / source, ignore=lambda d, names: [
                n for n in names
                if dockerignored(patterns, str((Path(d) / n).relative_to(ROOT)))])
        else:
            shutil.copy2(origin, context / source)
    out = tmp_path / "dist"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", ".", "-w", str(out)],
        cwd=context, capture_output=True, text=True, timeout=540, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    wheels = list(out.glob("guardian-*.whl"))
    assert len(wheels) == 1
    names = set(zipfile.ZipFile(wheels[0]).namelist())
    migrations = ROOT / "src" / "guardian" / "adapters" / "sql" / "migrations"
    expected = {"guardian/py.typed", "guardian/adapters/sql/migrations/env.py",
                "guardian/adapters/sql/migrations/script.py.mako"}
    expected |= {f"guardian/adapters/sql/migrations/versions/{p.name}"
                 for p in (migrations / "versions").glob("*.py")}
    assert len(expected) > 4
    assert expected <= names, expected - names
    assert any(n.endswith(".dist-info/entry_points.txt") for n in names)
