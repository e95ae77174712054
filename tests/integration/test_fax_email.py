"""The fax_email channel: the notice in 公文 form as a PDF with Chinese fonts, mailed to an
email-to-fax gateway (a real SMTP server, aiosmtpd) as a well-formed MIME message."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from dispatch.base import Message
from dispatch.contact_check import contact_warnings
from dispatch.fax import FaxEmailNotifier
from dispatch.planner import plan_notice
from dispatch.render import Renderer
from monitor.cli import main
from monitor.config import Config
from monitor.config.notifiers import FaxEmailNotifierConfig
from monitor.incidents.notices import NoticeKind
from tests.dispatch.support import ONE_OPERATOR, SHIPPED, base_toml, load, request, write_config
from tests.smtp_server import SmtpServer

pytestmark = pytest.mark.peer

FAX = "0356-2039295"


def fax_config(tmp_path: Path, port: int) -> Path:
    channels = f"""
[[notifier]]
name = "fax"
type = "fax_email"
host = "127.0.0.1"
port = {port}
security = "none"
sender = "commwatch@example.org"
gateway = "{{number}}@fax.example.net"
timeout = "20s"

[[dispatch.route]]
name = "办公室传真"
hq_office = true
channels = ["fax"]
"""
    directory = write_config(tmp_path / "c", base_toml(tmp_path / "cw.db", channels))
    contacts = (SHIPPED / "contacts.toml").read_text(encoding="utf-8")
    marker = 'name = "区工信局"'
    assert marker in contacts
    contacts = contacts.replace(marker, f'{marker}\nfax = "{FAX}"', 1)
    (directory / "contacts.toml").write_text(contacts, encoding="utf-8")
    return directory


def fonts_of(pdf: bytes) -> set[str]:
    names: set[str] = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        resources = page["/Resources"]
        for font in resources.get("/Font", {}).values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


async def test_warning_fax_is_a_pdf_in_official_form(tmp_path: Path) -> None:
    with SmtpServer() as server:
        config: Config = load(fax_config(tmp_path, server.port))
        notice = request(
            NoticeKind.WARNING,
            "w1",
            ONE_OPERATOR,
            incident_id=4,
            warning_scenario=3,
            issuer="system",
            issuer_name="区通信网络指挥部",
        )
        (planned,) = [
            p
            for p in plan_notice(notice, config, Renderer.for_config(config))
            if p.channel == "fax"
        ]
        assert planned.address == "03562039295"
        notifier_config = config.daemon.notifier[0]
        assert isinstance(notifier_config, FaxEmailNotifierConfig)
        message = Message(9, planned.address, planned.subject, planned.body, planned.html, "w1:fax")
        delivery = await FaxEmailNotifier(notifier_config).send(message)
        (received,) = server.wait_for(1)
    assert delivery.detail.startswith("fax gateway:")
    assert received.rcpt_tos == ("03562039295@fax.example.net",)
    mail = received.message
    assert mail["To"] == "03562039295@fax.example.net"
    assert mail["Subject"] == planned.subject
    assert mail.get_content_type() == "multipart/mixed"
    parts = list(mail.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "application/pdf"]
    assert "03562039295" in parts[0].get_content()
    attachment = parts[1]
    assert attachment.get_filename() == "notice-000009.pdf"
    pdf = attachment.get_content()
    assert pdf.startswith(b"%PDF-")
    fonts = fonts_of(pdf)
    assert any(f.endswith("+Noto-Serif-CJK-SC") for f in fonts), fonts  # body (embedded subset)
    assert any(f.endswith("+Noto-Sans-CJK-SC") for f in fonts), fonts  # title
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    flat = "".join(text.split())
    assert "区通信网络指挥部" in flat
    assert "关于发布情形3预警的通知" in flat  # 标题 in 公文 form (dispatch.gongwen)
    assert "各有关单位：" in flat
    assert "移动城区分公司网络" in flat
    assert "2026年11月28日" in flat  # 成文日期 without padding


def test_notify_test_sends_a_fax(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with SmtpServer() as server:
        directory = fax_config(tmp_path, server.port)
        code = main(["notify-test", "-c", str(directory), "--notifier", "fax", "--to", FAX])
        (received,) = server.wait_for(1)
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "accepted by fax (fax_email) for 0356-2039295" in out.out
    assert received.rcpt_tos == ("03562039295@fax.example.net",)
    pdf = next(p for p in received.message.iter_attachments()).get_content()
    assert "测试通知" in "".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())


def test_check_config_warns_of_a_bad_fax_number(tmp_path: Path) -> None:
    directory = fax_config(tmp_path, 9)
    contacts = (directory / "contacts.toml").read_text(encoding="utf-8")
    (directory / "contacts.toml").write_text(contacts.replace(FAX, "12345"), encoding="utf-8")
    warnings = contact_warnings(load(directory))
    assert any(
        w.endswith(".fax: '12345' is not a valid fax number (with its area code)") for w in warnings
    )
