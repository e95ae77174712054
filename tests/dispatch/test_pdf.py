"""The print rendering of the reports: A4, CJK fonts embedded (WeasyPrint, as for fax)."""

from __future__ import annotations

import io

from pypdf import PdfReader

from dispatch.official_pdf import html_to_pdf
from dispatch.render import Renderer
from dispatch.reports import final_view
from monitor.config import load_config
from tests.dispatch.support import SHIPPED
from tests.dispatch.test_golden import EVENTS, MIN, T0, incident

A4_POINTS = (595, 842)  # 210 × 297 mm


def test_the_final_report_prints_on_a4_with_cjk_fonts() -> None:
    view = final_view(load_config(SHIPPED), incident(), EVENTS, [], [], T0 + 120 * MIN)
    html = Renderer().document("final", "html", view)
    assert "@page { size: A4" in html
    data = html_to_pdf(html)
    assert data.startswith(b"%PDF-")
    pages = PdfReader(io.BytesIO(data)).pages
    assert {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in pages} == {
        A4_POINTS
    }
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in pages
        for font in page["/Resources"].get("/Font", {}).values()
    }
    assert any("Noto-Serif-CJK-SC" in f for f in fonts), fonts  # 仿宋 falls back to Noto Serif
