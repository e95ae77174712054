"""Models of contacts.toml: HQ, member units (annex 8.3), streets (annex 8.4), people, groups."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from monitor.config.names import INCIDENT_SITE as INCIDENT_SITE  # re-exported
from monitor.config.types import Identifier, StrictModel

Role = Literal["总指挥", "副总指挥", "办公室主任", "值班员"]


class HqConfig(StrictModel):
    """区通信网络指挥部 and its office (§2.1, §2.2)."""

    name: str = "区通信网络指挥部"
    office_name: str = "区通信网络指挥部办公室"
    office_unit: str = "区工信局"
    # §4.3.1 (2)/(3)①, §4.3.2 (3)①: reported to 区委、区政府 through their offices
    party_office: str = "区委办公室"
    government_office: str = "区政府办公室"


class UnitConfig(StrictModel):
    """[[unit]]: a unit of annex 8.3, an operator, or a town/street of annex 8.4."""

    name: str = Field(min_length=1)
    kind: Literal["department", "operator", "street"] = "department"
    member: bool = True
    priority: bool = False  # §6.3 优先保障单位: party/government organ or on the provincial list
    duty_phone: str | None = None
    fax: str | None = None  # the unit's fax number, with its area code (a `fax_*` channel)
    emails: list[str] = []
    mobiles: list[str] = []


class PersonConfig(StrictModel):
    """[[person]]: someone who acts (总指挥, 副总指挥, …) or receives notices."""

    id: Identifier
    name: str = Field(min_length=1)
    unit: str
    title: str = ""
    roles: list[Role] = []
    # §4.3.1 (2): Ⅰ级 is started by the 总指挥; a 副总指挥 the 总指挥 has authorised
    # (授权) in writing may start, re-level and end it too, recorded as authorised.
    authorised_level_one: bool = False
    emails: list[str] = []
    mobiles: list[str] = []

    @model_validator(mode="after")
    def _authorised_deputy(self) -> PersonConfig:
        if self.authorised_level_one and "副总指挥" not in self.roles:
            raise ValueError(
                "authorised_level_one (授权启动Ⅰ级响应, §4.3.1 (2)) is for a 副总指挥; "
                f"roles are {self.roles}"
            )
        return self


class WorkingGroupConfig(StrictModel):
    """[[working_group]] (§2.4). INCIDENT_SITE stands for the town/street concerned."""

    name: str = Field(min_length=1)
    lead: str
    members: list[str] = []
    duties: str = ""


class ContactsConfig(StrictModel):
    """contacts.toml."""

    hq: HqConfig = HqConfig()
    unit: list[UnitConfig] = []
    person: list[PersonConfig] = []
    working_group: list[WorkingGroupConfig] = []
