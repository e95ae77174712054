"""`commwatch user passwd PERSON [--password-stdin]`: a console password for a contacts.toml person.

The argon2id hash goes to `<[console] state_dir>/console-passwords.json`
(mode 0600), never to contacts.toml. Without --password-stdin the password is
asked twice on the terminal (not echoed).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from monitor.commands.common import load_or_report
from monitor.commands.support import EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, add_config_option
from monitor.console.passwords import PasswordError, PasswordStore, password_path


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `user passwd`."""
    parser = subparsers.add_parser("user", help="duty-console accounts: set a person's password")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    passwd = actions.add_parser("passwd", help="set a person's console password")
    add_config_option(passwd)
    passwd.add_argument("person", metavar="PERSON", help="a [[person]] id from contacts.toml")
    passwd.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (first line)",
    )
    passwd.set_defaults(handler=_passwd)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("新密码 (new password): ")
    if getpass.getpass("再输入一次 (again): ") != first:
        raise PasswordError("两次输入的密码不一致 (the passwords differ)")
    return first


def _passwd(args: argparse.Namespace) -> int:
    config = load_or_report(args.config)
    if config is None:
        return EXIT_USAGE
    if args.person not in config.people:
        known = "、".join(config.people) or "（无）"
        print(
            f"error: contacts.toml: no [[person]] with id {args.person!r}; known: {known}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    path = password_path(config.daemon.console.state_dir)
    try:
        password = _read_password(args.password_stdin)
        PasswordStore(path).set(args.person, password)
    except PasswordError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"error: cannot write {path}: {exc.strerror}", file=sys.stderr)
        return EXIT_RUNTIME
    print(f"已设置 {args.person} 的控制台密码（{path}）")
    return EXIT_OK
