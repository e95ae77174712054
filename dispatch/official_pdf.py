"""The notice in 公文 form as PDF: one renderer for the print view and the fax channel.

The page is `notice.print.html.j2` (rendered by `Renderer.printable`); this
module turns that HTML into PDF with WeasyPrint, whose text goes through
Pango/HarfBuzz and fontconfig, so the system's CJK fonts (Debian
`fonts-noto-cjk`: Noto Serif/Sans CJK SC, OpenType CFF, which reportlab cannot
embed) are used and embedded as subsets. Rendering takes a few hundred
milliseconds of CPU: callers run it in a worker thread. WeasyPrint is imported at
the first page (it costs ~25 MiB of RSS: a daemon that never prints never pays it).
"""

from __future__ import annotations

import asyncio


class PdfError(Exception):
    """The page could not be rendered."""


def html_to_pdf(html: str) -> bytes:
    """PDF bytes of an HTML page (no external resources are fetched)."""
    import weasyprint  # lazy: see the module docstring

    try:
        document = weasyprint.HTML(string=html, url_fetcher=_no_fetch)
        pdf = document.write_pdf()
    except Exception as exc:  # WeasyPrint raises many unrelated classes
        raise PdfError(f"PDF rendering failed: {type(exc).__name__}: {exc}") from exc
    if not isinstance(pdf, bytes):
        raise PdfError("PDF rendering produced no document")
    return pdf


async def html_to_pdf_async(html: str) -> bytes:
    """`html_to_pdf` in a worker thread: the event loop never waits on it."""
    return await asyncio.to_thread(html_to_pdf, html)


def _no_fetch(url: str, timeout: int = 10, ssl_context: object = None) -> dict[str, object]:
    """A notice page is self-contained: nothing is fetched (no file://, no network)."""
    raise ValueError(f"external resource refused: {url[:80]}")
