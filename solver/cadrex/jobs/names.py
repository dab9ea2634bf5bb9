"""Names of a generated case's teams, as an analyst reads them (cities' party committees and governments,
municipalities' districts, provinces' departments)."""

from __future__ import annotations

import re

import pandas as pd

#: the departments (厅局) of a generated province, by sector, named in turn (a province with more of a sector than
#: its list numbers the rest: 云南省财政厅, …, 云南省发展和改革委员会2)
DEPARTMENTS = {
    "economy": ["发展和改革委员会", "财政厅", "商务厅", "工业和信息化厅", "住房和城乡建设厅", "统计局"],
    "legal": ["司法厅", "公安厅", "信访局", "市场监督管理局", "应急管理厅", "审计厅"],
    "social": ["教育厅", "民政厅", "人力资源和社会保障厅", "卫生健康委员会", "文化和旅游厅", "医疗保障局"],
    "rural": ["农业农村厅", "水利厅", "自然资源厅", "生态环境厅", "林业和草原局", "乡村振兴局"],
    "enterprise": ["国有资产监督管理委员会", "交通运输厅", "能源局", "地方金融管理局", "科学技术厅", "粮食和物资储备局"],
}


def team_names(teams: pd.DataFrame, provinces: pd.DataFrame) -> list[str]:
    """Team names as an analyst reads them: a city's party committee and government share their city's number within
    the province (陕西第2市委, 陕西第2市政府; districts in a municipality: 上海第1区委), a department is the province's
    (云南省财政厅; 北京市教育局). ``teams``: province_id, sector and locality_id; ``provinces``: province_id, name."""
    full_name = dict(zip(provinces["province_id"], provinces["name"], strict=True))
    city_no: dict[str, int] = {}
    per_prov: dict[str, int] = {}
    seen: dict[tuple[str, str], int] = {}
    out = []
    for i, (q, sec, li) in enumerate(zip(teams["province_id"], teams["sector"], teams["locality_id"], strict=True)):
        full, li = full_name[q], li or f"#{i}"  # a party committee without a government: a city of its own
        city = full.endswith("市")  # a municipality (直辖市): districts, and 局 for 厅
        if sec in ("party", "government"):
            if li not in city_no:
                per_prov[q] = city_no[li] = per_prov.get(q, 0) + 1
            out.append(f"{short_name(full)}第{city_no[li]}{'区' if city else '市'}{'委' if sec == 'party' else '政府'}")
        else:
            names = DEPARTMENTS[sec]
            n = seen[q, sec] = seen.get((q, sec), 0) + 1
            dept = names[(n - 1) % len(names)] + (str((n - 1) // len(names) + 1) if n > len(names) else "")
            out.append(full + (dept.replace("厅", "局") if city else dept))
    return out


def short_name(name: str) -> str:
    """A province's short name as in team names (内蒙古自治区 → 内蒙古, 广西壮族自治区 → 广西, 河北省 → 河北)."""
    return re.sub(r"(壮族|回族|维吾尔)?自治区$|[省市]$", "", name)


def head_titles(titles: pd.Series, team_of_post: pd.Series) -> list[str]:
    """Each post's title with its team's head named as that team calls it: 区长 of a district government, 市长 of a
    city's; 主任 of a commission (委员会), 局长 of a 局, 厅长 of a 厅. ``team_of_post``: each post's team name.
    Other titles are kept."""
    out = []
    for t, team in zip(titles, team_of_post, strict=True):
        if t in ("市长", "区长"):
            t = "区长" if team.endswith("区政府") else "市长"
        elif t in ("厅长", "局长", "主任"):
            unit = team.rstrip("0123456789")  # 云南省财政厅2: a second 财政厅
            t = "主任" if unit.endswith("委员会") else "局长" if unit.endswith("局") else "厅长"
        out.append(t)
    return out
