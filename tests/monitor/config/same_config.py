"""Whether a config read back (the cache's, or the daemon's plain form) is the validated one."""

from __future__ import annotations

from typing import Any

from pydantic import SecretBytes, SecretStr

from monitor.config import Config
from monitor.config.plain import WITHHELD, Plain, Secret
from monitor.config.snapshot import PARTS, is_model


def assert_same_config(validated: Config, other: Config, *, secrets: bool) -> None:
    """Every part of `other` answers as `validated` does (secrets kept, or withheld)."""
    assert other.directory == validated.directory
    for part in PARTS:
        assert_same(getattr(validated, part), getattr(other, part), part, secrets=secrets)


def assert_same(validated: Any, other: Any, where: str, *, secrets: bool) -> None:
    """Every field (and every property the project defines) equal, of the same type."""
    if is_model(validated):  # a model, or a pydantic dataclass (NodeConfig)
        assert isinstance(other, Plain), where
        assert type(other).__name__ == type(validated).__name__, where
        names = list(type(validated).__pydantic_fields__)
        names += [
            name
            for klass in type(validated).__mro__
            if klass.__module__.startswith("monitor.")
            for name, value in vars(klass).items()
            if isinstance(value, property)
        ]
        for name in names:
            assert_same(
                getattr(validated, name), getattr(other, name), f"{where}.{name}", secrets=secrets
            )
    elif isinstance(validated, SecretStr | SecretBytes):
        if secrets:
            assert isinstance(other, Secret), where
            assert other.get_secret_value() == validated.get_secret_value(), where
        else:
            assert other is WITHHELD, where
    else:
        assert type(other) is type(validated), where
        if isinstance(validated, list | tuple):
            assert len(other) == len(validated), where
            for index, (a, b) in enumerate(zip(validated, other, strict=True)):
                assert_same(a, b, f"{where}[{index}]", secrets=secrets)
        elif isinstance(validated, dict):
            assert list(other) == list(validated), where
            for key in validated:
                assert_same(validated[key], other[key], f"{where}[{key!r}]", secrets=secrets)
        else:
            assert other == validated, where
