"""The optional native part of Guardian: ``guardian.journal._fsync``
(see src/guardian/_native/fsync.c).

Everything else is declared in pyproject.toml. Where no C compiler is found, or the platform
is not Linux, the build goes on without it and the journal uses its Python syncer.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("guardian.journal._fsync", ["src/guardian/_native/fsync.c"],
                             optional=True, extra_compile_args=["-O2"])])
