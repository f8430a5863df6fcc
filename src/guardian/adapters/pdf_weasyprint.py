"""The printed form of a report: its HTML page laid out as a PDF by WeasyPrint.

WeasyPrint renders the page's CSS paged media (cover, page numbers) and its SVG charts; it
needs Debian's Pango libraries (``make install`` installs them). Nothing is fetched: the page
is self-contained, and the fetcher accepts ``data:`` URLs only.
"""

from __future__ import annotations

from guardian.errors import ConfigurationError


def html_to_pdf(html: str) -> bytes:
    try:
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher
    except (ImportError, OSError) as exc:  # OSError: the Pango libraries are missing
        raise ConfigurationError(f"PDF rendering is unavailable: {exc}") from exc
    pdf = HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf()
    if pdf is None:
        raise ConfigurationError("WeasyPrint produced no PDF")
    return bytes(pdf)
