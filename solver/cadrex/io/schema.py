"""Enumerations (ids and Chinese labels) and the column layout of every case file (SPEC §1–§2)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cadrex.i18n import Join, Msg

GRADES = ["vice_section", "section", "vice_division", "division", "vice_bureau", "bureau",
          "vice_ministerial", "ministerial"]
GRADE_LABELS = ["副科", "正科", "副处", "正处", "副厅", "正厅", "副部", "正部"]
EDUCATION = ["college", "bachelor", "master", "doctor"]
EDUCATION_LABELS = ["大专", "本科", "硕士", "博士"]
KEY_ROLES = ["party_secretary", "government_head", "discipline_secretary", "organization_head",
             "court_president", "procurator_general", "public_security_head"]
ROLES = KEY_ROLES + ["member"]
ROLE_LABELS = ["党委书记", "政府正职", "纪委书记", "组织部长", "法院院长", "检察长", "公安局长", "班子成员"]
KINDS = ["structural", "training", "care", "mandatory", "avoidance", "disciplinary"]
KIND_LABELS = ["结构性", "培养性", "照顾性", "规定性", "回避性", "处理性"]
#: kinds that lift E5/E6 and force a move (H1)
FORCED_KINDS = ("mandatory", "avoidance", "disciplinary")


def _enum(ids: list[str], labels: list[str], extra: dict[str, str] | None = None) -> dict[str, object]:
    m: dict[str, object] = {}
    for i, (a, b) in enumerate(zip(ids, labels, strict=True)):
        m[a] = i
        m[b] = i
    for k, v in (extra or {}).items():
        m[k] = ids.index(v)
    return m


GRADE_MAP = _enum(GRADES, GRADE_LABELS, {f"{b}级": a for a, b in zip(GRADES, GRADE_LABELS, strict=True)})  # 副厅级 too
EDU_MAP = _enum(EDUCATION, EDUCATION_LABELS, {"大学专科": "college", "大学本科": "bachelor", "研究生": "master"})
ROLE_MAP = {k: ROLES[v] for k, v in _enum(ROLES, ROLE_LABELS, {"政府首长": "government_head", "成员": "member"}).items()}
KIND_MAP = {k: KINDS[v] for k, v in _enum(KINDS, KIND_LABELS).items()}
GENDER_MAP = {"f": "F", "m": "M", "女": "F", "男": "M", "女性": "F", "男性": "M", "female": "F", "male": "M"}
PARTY_MAP = {"cpc": "cpc", "non_cpc": "non_cpc", "中共党员": "cpc", "党员": "cpc", "中共": "cpc",
             "非中共党员": "non_cpc", "非中共": "non_cpc", "民主党派": "non_cpc", "无党派": "non_cpc",
             "群众": "non_cpc"}
BOOL_MAP = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False, "是": True, "否": False}
SIDE_MAP = {"cadre": "cadre", "post": "post", "干部": "cadre", "岗位": "post"}
MODE_MAP = {"require": "require", "forbid": "forbid", "必须": "require", "禁止": "forbid"}
#: re-plan events (SPEC §10), ids and Chinese labels
EVENTS = ["decline", "withdraw", "vacate", "close", "require", "forbid"]
EVENT_LABELS = ["不同意", "撤回", "出缺", "关闭", "必须", "禁止"]
EVENT_MAP = {k: EVENTS[v] for k, v in _enum(EVENTS, EVENT_LABELS, {"本人不同意": "decline", "考察未通过": "decline",
                                                                    "退出": "withdraw", "空缺": "vacate"}).items()}


@dataclass(frozen=True)
class Col:
    """A column: ``kind`` is id/str/int/float/date/bool/list or ``enum:NAME``; ``ref`` names a referenced table."""

    name: str
    kind: str = "str"
    required: bool = False
    default: object = None
    allowed: tuple[float, float] | None = None  # inclusive range for numbers


@dataclass(frozen=True)
class FileSpec:
    stem: str
    key: tuple[str, ...]
    cols: list[Col] = field(default_factory=list)
    required_file: bool = False


def _pairs(ids: list[str], labels: list[str]) -> Join:
    """"id label" items, listed with ", " in English and "，" in Chinese."""
    return Join([f"{a} {b}" for a, b in zip(ids, labels, strict=True)], sep="reason.list")


#: enum name -> (value map, what a valid value is: a catalogue message, ``enum.*``)
ENUMS: dict[str, tuple[dict, Msg]] = {
    "grade": (GRADE_MAP, Msg("enum.grade", values=_pairs(GRADES, GRADE_LABELS))),
    "education": (EDU_MAP, Msg("enum.education", values=_pairs(EDUCATION, EDUCATION_LABELS))),
    "role": (ROLE_MAP, Msg("enum.role", values=_pairs(ROLES, ROLE_LABELS))),
    "kind": (KIND_MAP, Msg("enum.kind", values=_pairs(KINDS, KIND_LABELS))),
    "gender": (GENDER_MAP, Msg("enum.gender")),
    "party": (PARTY_MAP, Msg("enum.party")),
    "bool": (BOOL_MAP, Msg("enum.bool")),
    "side": (SIDE_MAP, Msg("enum.side")),
    "mode": (MODE_MAP, Msg("enum.mode")),
    "event": (EVENT_MAP, Msg("enum.event", values=_pairs(EVENTS, EVENT_LABELS))),
}

YEARS = (0.0, 80.0)

FILES: list[FileSpec] = [
    FileSpec("provinces", ("province_id",), [
        Col("province_id", "id", True), Col("name", "str", True),
        Col("lat", "float", True, allowed=(-90.0, 90.0)), Col("lon", "float", True, allowed=(-180.0, 180.0)),
    ], required_file=True),
    FileSpec("specialties", ("specialty_id",), [
        Col("specialty_id", "id", True), Col("name"), Col("family"),
    ]),
    FileSpec("teams", ("team_id",), [
        Col("team_id", "id", True), Col("name"), Col("province_id", "id", True), Col("locality_id"),
        Col("sector"), Col("structure_model", "id", True), Col("hardship", "int", default=0, allowed=(0, 3)),
        Col("ethnic_autonomous", "enum:bool", default=False),
    ], required_file=True),
    FileSpec("posts", ("post_id",), [
        Col("post_id", "id", True), Col("team_id", "id", True), Col("title"), Col("grade", "enum:grade", True),
        Col("role", "enum:role", default="member"), Col("specialty"), Col("min_education", "enum:education", default=-1),
        Col("specialty_strict", "enum:bool", default=False), Col("must_fill", "enum:bool", default=False),
        Col("holder_id"),
    ], required_file=True),
    FileSpec("cadres", ("cadre_id",), [
        Col("cadre_id", "id", True), Col("name"), Col("gender", "enum:gender", True), Col("birth_date", "date", True),
        Col("minority", "enum:bool", default=False), Col("party", "enum:party", default="cpc"),
        Col("education", "enum:education", True), Col("specialty"), Col("other_specialties", "list"),
        Col("sectors", "list"), Col("grade", "enum:grade", True),
        Col("years_in_grade", "float", default=0.0, allowed=YEARS), Col("years_in_post", "float", default=0.0, allowed=YEARS),
        Col("years_in_province", "float", default=0.0, allowed=YEARS),
        Col("grassroots_years", "float", default=0.0, allowed=YEARS),
        Col("hardship_years", "float", default=0.0, allowed=YEARS),
        Col("province_id", "id", True), Col("native_province"), Col("home_province"),
        Col("exchange_kind", "enum:kind", default=""), Col("movable", "enum:bool", default=False),
    ], required_file=True),
    FileSpec("relations", ("cadre_a", "cadre_b"), [
        Col("cadre_a", "id", True), Col("cadre_b", "id", True), Col("relation"),
    ]),
    FileSpec("preferences", ("side", "cadre_id", "post_id"), [
        Col("side", "enum:side", True), Col("cadre_id", "id", True), Col("post_id", "id", True),
        Col("rank", "int", True, allowed=(1, 5)),
    ]),
    FileSpec("pins", ("cadre_id", "post_id"), [
        Col("cadre_id", "id", True), Col("post_id", "id", True), Col("mode", "enum:mode", True),
    ]),
    FileSpec("scores", ("cadre_id", "post_id"), [
        Col("cadre_id", "id", True), Col("post_id", "id", True), Col("score", "int", True),
    ]),
]
SPECS = {f.stem: f for f in FILES}
#: per-cadre decline probabilities of a robustness run (SPEC §11, ``--declines``)
DECLINES_FILE = FileSpec("declines", ("cadre_id",), [Col("cadre_id", "id", True), Col("probability", "float", True, allowed=(0.0, 1.0))])
#: the events file of a re-plan (SPEC §10); not part of a case folder
EVENTS_FILE = FileSpec("events", (), [Col("event", "enum:event", True), Col("cadre_id"), Col("post_id"), Col("note")])
