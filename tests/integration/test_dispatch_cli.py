"""The dispatch commands: notify-test, report submit/render, and what check-config and
`incident show` print from dispatch (in-process through `monitor.cli.main`)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from dispatch.dispatcher import Dispatcher
from monitor.cli import main
from monitor.incidents.engine import IncidentEngine
from monitor.incidents.tables import utcnow
from tests.dispatch.support import ONE_OPERATOR, base_toml, database, load, write_config
from tests.kannel import Kannel
from tests.smtp_server import SmtpServer

pytestmark = pytest.mark.peer


def config_dir(tmp_path: Path, smtp_port: int = 9, kannel_url: str = "http://127.0.0.1:9/") -> Path:
    channels = f"""
[[notifier]]
name = "mail"
type = "email"
host = "127.0.0.1"
port = {smtp_port}
security = "none"
sender = "commwatch@example.org"
timeout = "3s"

[[notifier]]
name = "sms"
type = "sms_http"
preset = "kannel"
url = "{kannel_url}"
username = "netmon"
password = "secret"
timeout = "3s"
"""
    return write_config(tmp_path / "c", base_toml(tmp_path / "cw.db", channels))


def test_notify_test_email(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with SmtpServer() as server:
        code = main(
            [
                "notify-test",
                "-c",
                str(config_dir(tmp_path, server.port)),
                "--notifier",
                "mail",
                "--to",
                "duty@example.org",
            ]
        )
        received = server.wait_for(1)
    assert code == 0
    assert capsys.readouterr().out.startswith("accepted by mail (email) for duty@example.org")
    assert received[0].message["Subject"] == "【测试】commwatch 通道测试"


def test_notify_test_sms_through_kannel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Kannel(tmp_path / "kannel") as kannel:
        directory = config_dir(tmp_path, kannel_url=kannel.sendsms_url)
        assert (
            main(["notify-test", "-c", str(directory), "--notifier", "sms", "--to", "13800000010"])
            == 0
        )
        received = kannel.wait_received(1)
    assert received[0][1:] == (
        "13800000010",
        "【测试】commwatch测试短信，收到即通道正常，请忽略。回电0356-2039294",
    )
    assert "accepted by sms (sms_http)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (
            ["--notifier", "nope", "--to", "a@example.org"],
            2,
            "unknown notifier 'nope' (known: mail, sms)",
        ),
        (["--notifier", "sms", "--to", "0356-2039294"], 2, "is a landline (never sent SMS"),
        (["--notifier", "mail", "--to", "a@example.org"], 1, "(transient)"),
    ],
    ids=["unknown-notifier", "landline", "server-down"],
)
def test_notify_test_failures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    assert main(["notify-test", "-c", str(config_dir(tmp_path)), *argv]) == code
    assert message in capsys.readouterr().err


def _incident_with_deliveries(tmp_path: Path) -> Path:
    """An incident detected 40 minutes ago, its notices written to the outbox files."""
    directory = write_config(
        tmp_path / "c",
        base_toml(
            tmp_path / "cw.db",
            f'[[notifier]]\nname = "outbox"\ntype = "file"\ndirectory = "{tmp_path}/out"\n',
        ),
    )
    config = load(directory)
    engine = database(config)
    IncidentEngine(engine, config).apply_assessment(ONE_OPERATOR, utcnow() - timedelta(minutes=40))

    async def deliver() -> None:
        dispatcher = Dispatcher(config, engine)
        dispatcher.start()
        await dispatcher.stop(5)

    asyncio.run(deliver())
    engine.dispose()
    return directory


def test_report_render_and_submit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = str(_incident_with_deliveries(tmp_path))
    assert main(["report", "render", "1", "-c", directory, "--kind", "brief"]) == 0
    brief = capsys.readouterr().out
    assert brief.startswith("关于移动城区分公司网络全部业务中断的书面简要报告\n")
    assert "一、灾害性质\n通信网络事故：移动城区分公司网络业务中断。" in brief

    assert (
        main(
            [
                "report",
                "submit",
                "1",
                "-c",
                directory,
                "--by",
                "duty-officer",
                "--note",
                "已电话报区政府",
            ]
        )
        == 0
    )
    assert (
        "书面报告已标记报送（指挥部办公室值班员（duty-officer），接报后40分钟，已超过30分钟时限）"
        in capsys.readouterr().out
    )
    assert main(["report", "submit", "1", "-c", directory, "--by", "duty-officer"]) == 2
    assert "已于" in capsys.readouterr().err

    out = tmp_path / "final.md"
    assert (
        main(
            [
                "report",
                "render",
                "1",
                "-c",
                directory,
                "--kind",
                "final",
                "--format",
                "md",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    final = out.read_text(encoding="utf-8")
    assert "| 书面报告时限（30分钟） | 超时 |" in final
    assert "超时事项：书面报告接报后40.0分钟报送（时限30分钟）" in final
    assert "报送书面报告" in final
    assert "报告超时" in final
    assert main(["report", "render", "99", "-c", directory]) == 2


def test_incident_show_lists_deliveries(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = str(_incident_with_deliveries(tmp_path))
    assert main(["incident", "show", "1", "-c", directory]) == 0
    out = capsys.readouterr().out
    assert "notice=detection" in out
    assert "status=sent" in out
    assert "address=gxj@example.org" in out


def test_check_config_warns_about_reachability(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-config", "-c", str(config_dir(tmp_path)), "--verbose"]) == 0
    err = capsys.readouterr().err
    assert "units have no SMS-capable number" in err
    assert "东街街道办事处（值班电话0356-2286101）" in err  # the list: --verbose
