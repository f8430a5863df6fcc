"""The printed form of a report: its HTML page laid out as a PDF by WeasyPrint.

WeasyPrint renders the page's CSS paged media (cover, page numbers) and its SVG charts; it
needs Debian's Pango libraries (``make install`` installs them). Nothing is fetched: the page
is self-contained, and the fetcher accepts ``data:`` URLs only. A missing WeasyPrint or Pango,
or WeasyPrint failing on a page, is :class:`~guardian.errors.ReportRendererUnavailable`
(HTTP 503 ``report_renderer_unavailable``): the report's other formats still work.
"""

from __future__ import annotations

from guardian.errors import ReportRendererUnavailable
from guardian.logging import get_logger

log = get_logger("guardian.reports")


def html_to_pdf(html: str) -> bytes:
    try:
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher
    except (ImportError, OSError) as exc:  # OSError: the Pango libraries are missing
        raise ReportRendererUnavailable(
            f"PDF rendering is unavailable (WeasyPrint cannot load: {type(exc).__name__}); "
            "ask for format=html or json") from exc
    try:
        pdf = HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf()
    except Exception as exc:  # any failure of the renderer is the same 503
        log.error("PDF rendering failed", error=type(exc).__name__)
        raise ReportRendererUnavailable(
            f"the PDF renderer failed on this report ({type(exc).__name__}); "
            "ask for format=html or json") from exc
    if pdf is None:
        raise ReportRendererUnavailable("WeasyPrint produced no PDF")
    return bytes(pdf)
