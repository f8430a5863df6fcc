"""The console: Guardian's web interface for security officers, auditors and the DPO.

Server-rendered pages (Jinja2, htmx served from the package, one stylesheet) mounted at
``/console/`` in the API's own application by :func:`install_console`. Every page is a client
of the same services and gates as the API (never a second implementation of a use case);
:mod:`guardian.console.security` holds the cookies, CSRF token and headers.
"""

from guardian.console.app import install_console

__all__ = ["install_console"]
