"""The print rendering: the report's HTML as an A4 PDF with CJK fonts embedded (real Chromium)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dispatch.pdf import PdfError, html_to_pdf
from dispatch.render import Renderer
from dispatch.reports import final_view
from monitor.config import load_config
from tests.dispatch.support import SHIPPED
from tests.dispatch.test_golden import EVENTS, MIN, T0, incident
from tests.requirements import require_binary

A4_POINTS = (595.0, 842.0)  # 210 × 297 mm


def test_the_final_report_prints_on_a4_with_cjk_fonts(tmp_path: Path) -> None:
    require_binary("chromium")
    view = final_view(load_config(SHIPPED), incident(), EVENTS, [], [], T0 + 120 * MIN)
    html = Renderer().document("final", "html", view)
    assert "@page { size: A4" in html
    out = tmp_path / "final.pdf"
    html_to_pdf(html, out)
    data = out.read_bytes()
    assert data.startswith(b"%PDF-")
    boxes = {
        tuple(round(float(v)) for v in m.split()[2:])
        for m in re.findall(rb"/MediaBox \[([^\]]*)\]", data)
    }
    assert boxes == {A4_POINTS}
    fonts = re.findall(rb"/FontName\s*/([^\s/]+)", data)
    assert any(b"CJK" in f for f in fonts), fonts  # fonts-noto-cjk: 仿宋/小标宋 fall back to Noto


def test_a_missing_browser_names_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMMWATCH_CHROMIUM", str(tmp_path / "no-such-chromium"))
    with pytest.raises(PdfError, match="cannot run"):
        html_to_pdf("<html></html>", tmp_path / "x.pdf")
    monkeypatch.delenv("COMMWATCH_CHROMIUM")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PdfError, match="apt install chromium fonts-noto-cjk"):
        html_to_pdf("<html></html>", tmp_path / "x.pdf")
