"""A validated config without pydantic: the form the daemon runs on.

pydantic validates the config (in `monitor.config.load_child`'s process, or in
a command); the daemon then needs only the values. Importing pydantic and
building the 58 config models costs ≈ 12 MiB of a daemon's memory for as long
as it runs, so the daemon takes the validated config as `Plain` objects
instead: one small slotted class per model kind, made here on first use, whose
instances answer the model's fields and properties (as values computed once, by
the model itself) and nothing else. `Secret` keeps a secret's value and prints
as pydantic's SecretStr does.

Code that reads a config (the node table, the probes, the scorer, the
dispatcher) reads either form the same way: attributes, `model_copy(update=…)`
for the models it rebuilds (the plan and the inventory, which have no
properties). This module imports nothing from pydantic; `monitor.config.
snapshot.to_plain` makes the Plain form from validated models.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class Plain:
    """A validated model's values, read-only: made by `plain_class(...)(*values)`."""

    __slots__ = ()
    # underscored: a model's own fields may be called `kind` or `fields`
    _kind: ClassVar[str] = ""
    _fields: ClassVar[tuple[str, ...]] = ()
    _computed: ClassVar[tuple[str, ...]] = ()  # the model's properties, evaluated by the model

    def __init__(self, *values: Any) -> None:
        names = self._fields + self._computed
        if len(values) != len(names):
            raise TypeError(f"{self._kind} takes {len(names)} values, not {len(values)}")
        for name, value in zip(names, values, strict=True):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{self._kind} is read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{self._kind} is read-only")

    def _values(self) -> tuple[Any, ...]:
        """The fields' values then the properties', in declared order."""
        return tuple(getattr(self, name) for name in self._fields + self._computed)

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> Plain:
        """A copy with some fields replaced (as pydantic's model_copy: not validated again)."""
        update = dict(update or {})
        unknown = sorted(set(update) - set(self._fields))
        if unknown:
            raise TypeError(f"{self._kind} has no field {unknown[0]!r}")
        if not update:
            return self  # read-only: the same values
        if self._computed:  # a property's value could depend on the field
            raise TypeError(f"{self._kind} has properties: copy the validated model instead")
        values = {name: getattr(self, name) for name in self._fields} | update
        return type(self)(*(values[name] for name in self._fields))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Plain):
            return NotImplemented
        return (self._kind, self._fields, self._values()) == (
            other._kind,
            other._fields,
            other._values(),
        )

    def __hash__(self) -> int:
        try:
            return hash((self._kind, self._values()))
        except TypeError:  # a list among the values: equal objects still hash equal
            return hash((self._kind, self._fields))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{self._kind}({shown})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (rebuild, (self._kind, self._fields, self._computed, self._values()))


_CLASSES: dict[tuple[str, tuple[str, ...], tuple[str, ...]], type[Plain]] = {}


def plain_class(kind: str, fields: tuple[str, ...], computed: tuple[str, ...] = ()) -> type[Plain]:
    """The Plain class of one model kind with these fields and properties (made once)."""
    key = (kind, fields, computed)
    found = _CLASSES.get(key)
    if found is None:
        attributes = {"__slots__": fields + computed, "_kind": kind, "_fields": fields}
        found = type(kind, (Plain,), attributes | {"_computed": computed, "__module__": __name__})
        _CLASSES[key] = found
    return found


def plain_model(kind: str, **values: Any) -> Plain:
    """A Plain object of a model kind without properties: its fields, in declared order."""
    return plain_class(kind, tuple(values))(*values.values())


def rebuild(
    kind: str, fields: tuple[str, ...], computed: tuple[str, ...], values: tuple[Any, ...]
) -> Plain:
    """A Plain object from its kind, names and values (what unpickling calls)."""
    return plain_class(kind, fields, computed)(*values)


class Secret:
    """A secret's value, printed as `**********` (as pydantic's SecretStr)."""

    __slots__ = ("_value",)
    _value: str | bytes

    def __init__(self, value: str | bytes) -> None:
        object.__setattr__(self, "_value", value)

    def get_secret_value(self) -> Any:
        """The value, str (or bytes for a SecretBytes)."""
        return self._value

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Secret is read-only")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return bool(self._value == other._value)

    def __hash__(self) -> int:
        return hash(self._value)

    def __len__(self) -> int:
        return len(self._value)

    def __str__(self) -> str:
        return "**********" if self._value else ""

    def __repr__(self) -> str:
        return f"SecretStr('{self}')"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Secret, (self._value,))


class Withheld:
    """A secret left out of the snapshot: commands that need its value validate the config."""

    def get_secret_value(self) -> str:
        raise ValueError("a secret is not kept in the config cache")

    def __repr__(self) -> str:
        return "SecretStr('**********')"


WITHHELD = Withheld()


def kind_of(value: Plain) -> str:
    """The model's class name."""
    return value._kind


def fields_of(value: Plain) -> tuple[str, ...]:
    """The model's fields, in declared order."""
    return value._fields


def computed_of(value: Plain) -> tuple[str, ...]:
    """The model's properties kept as values."""
    return value._computed


def is_secret(value: object) -> bool:
    """A secret of either form (pydantic's SecretStr/SecretBytes, Secret, a withheld one)."""
    return callable(getattr(type(value), "get_secret_value", None))
