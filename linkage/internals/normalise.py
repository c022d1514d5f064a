"""Normalisation of names, dates, sex codes and places; phonetic keys for Nordic names."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

# Letters that NFKD does not decompose, or that have a conventional digraph spelling.
_TRANSLITERATE = str.maketrans(
    {
        "ø": "oe",
        "å": "aa",
        "æ": "ae",
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "œ": "oe",
        "ß": "ss",
        "þ": "th",
        "ð": "d",
        "đ": "d",
        "ı": "i",  # Turkish dotless i
        "ş": "s",
        "ğ": "g",
        "ç": "c",
        "ł": "l",
        "ą": "a",
        "ę": "e",
        "ś": "s",
        "ż": "z",
        "ź": "z",
        "ć": "c",
        "ń": "n",
        "ó": "o",
    }
)
_APOSTROPHES = re.compile(r"['’`´ʼ]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# Digraph spellings of æ/ø/å/ü folded to one letter, then doubled letters collapsed.
_DIGRAPHS = re.compile(r"aa|oe|ae|ue")
_DIGRAPH_TO = {"aa": "a", "oe": "o", "ae": "e", "ue": "u"}
_DOUBLES = re.compile(r"([a-z])\1+")

# Phonetic rewriting for Danish/Nordic spellings, applied in order.
_PHONETIC_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"sch", "s"),
        (r"ch", "k"),
        (r"ck", "k"),
        (r"ph", "f"),
        (r"th", "t"),
        (r"dt", "t"),
        (r"qu", "kv"),
        (r"x", "ks"),
        (r"c(?=[eiy])", "s"),
        (r"c", "k"),
        (r"q", "k"),
        (r"w", "v"),
        (r"z", "s"),
        (r"d", "t"),
        (r"y", "i"),
    )
)
_PHONETIC_DROP = re.compile(r"[aeiouh]")
_PHONETIC_MAX = 8

_SEX = {
    "m": "M",
    "male": "M",
    "man": "M",
    "mand": "M",
    "dreng": "M",
    "1": "M",
    "f": "F",
    "k": "F",
    "w": "F",
    "female": "F",
    "woman": "F",
    "kvinde": "F",
    "pige": "F",
    "2": "F",
}
_PLACE_WORDS = re.compile(r"\b(region|regionen|kommune|kommunen|municipality|of)\b")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DMY_DATE = re.compile(r"^(\d{1,2})[./\- ](\d{1,2})[./\- ](\d{4})$")
_MIN_YEAR, _MAX_YEAR = 1850, 2100


@lru_cache(maxsize=262_144)
def normalise_name(value: str | None) -> str:
    """Casefold, transliterate, drop punctuation: 'Å-Ødegård' -> 'aa oedegaard'."""
    if not value or not isinstance(value, str):
        return ""
    s = value.casefold().translate(_TRANSLITERATE)
    if not s.isascii():
        s = unicodedata.normalize("NFKD", s)
        s = "".join(ch for ch in s if not unicodedata.combining(ch)).translate(_TRANSLITERATE)
    s = _APOSTROPHES.sub("", s)
    return _NON_ALNUM.sub(" ", s).strip()


@lru_cache(maxsize=262_144)
def name_key(value: str | None) -> str:
    """Canonical name key: spelling variants of æ/ø/å/ü and doubled letters fold together."""
    s = normalise_name(value)
    if not s:
        return ""
    s = _DIGRAPHS.sub(lambda m: _DIGRAPH_TO[m.group(0)], s)
    return _DOUBLES.sub(r"\1", s)


def name_tokens(value: str | None) -> list[str]:
    """The canonical keys of each part of a name (hyphenated and multiple names split)."""
    return name_key(value).split()


@lru_cache(maxsize=262_144)
def phonetic(value: str | None) -> str:
    """Deterministic phonetic key for Nordic names, e.g. 'Christiansen' -> 'KRSTNSN'."""
    s = name_key(value).replace(" ", "")
    if not s:
        return ""
    for pattern, repl in _PHONETIC_RULES:
        s = pattern.sub(repl, s)
    head, tail = s[0], _PHONETIC_DROP.sub("", s[1:])
    s = _DOUBLES.sub(r"\1", head + tail)
    return s[:_PHONETIC_MAX].upper()


def phonetic_tokens(value: str | None) -> list[str]:
    """Phonetic keys of each part of a name, in order."""
    return list(_phonetic_tokens(value))


@lru_cache(maxsize=262_144)
def _phonetic_tokens(value: str | None) -> tuple[str, ...]:
    return tuple(p for p in (phonetic(t) for t in name_tokens(value)) if p)


def date_parts(value: Any) -> tuple[int, int, int] | None:
    """Loose (year, month, day) of a date, ISO/compact/day-first string; month>12 is swapped."""
    if value is None or value != value:  # None, NaN, NaT
        return None
    if isinstance(value, dt.date):
        return (value.year, value.month, value.day)
    if not isinstance(value, str):
        return None
    s = value.strip()
    m = _ISO_DATE.match(s) or _COMPACT_DATE.match(s)
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    else:
        m = _DMY_DATE.match(s)
        if not m:
            return None
        d, mo, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if mo > 12 and 1 <= d <= 12:
        mo, d = d, mo
    if not (_MIN_YEAR <= y <= _MAX_YEAR and 1 <= mo <= 12 and 1 <= d <= 31):
        return None
    return (y, mo, d)


def parse_date(value: Any) -> dt.date | None:
    """A real calendar date from a date or string, or None when it is not one."""
    parts = date_parts(value)
    if parts is None:
        return None
    try:
        return dt.date(*parts)
    except ValueError:
        return None


def date_iso(value: Any) -> str | None:
    """Loose ISO 'YYYY-MM-DD' for matching (keeps impossible days such as 02-30)."""
    parts = date_parts(value)
    return None if parts is None else f"{parts[0]:04d}-{parts[1]:02d}-{parts[2]:02d}"


def is_day_month_swap(a: Any, b: Any) -> bool:
    """True when two dates differ only by swapped day and month."""
    pa, pb = date_parts(a), date_parts(b)
    if pa is None or pb is None or pa == pb:
        return False
    return pa[0] == pb[0] and pa[1] == pb[2] and pa[2] == pb[1]


def normalise_sex(value: Any) -> str | None:
    """'M', 'F' or None from common codes and words (English and Danish)."""
    if value is None or value != value:
        return None
    return _SEX.get(str(value).strip().casefold())


@lru_cache(maxsize=65_536)
def normalise_place(value: str | None) -> str:
    """Region/municipality key: codes lose leading zeros, names lose 'region'/'kommune'."""
    if value is None or value != value or value == "":
        return ""
    s = normalise_name(str(value))
    if s.isdigit():
        return s.lstrip("0") or "0"
    s = _PLACE_WORDS.sub(" ", s)
    return " ".join(name_key(s).split())


def normalise_record(record: Any) -> dict[str, str | None]:
    """Normalised matching fields of one person record (a mapping with the standard keys)."""
    given = name_key(record.get("given_name"))
    family = name_key(record.get("family_name"))
    mother = name_key(record.get("mother_name"))
    return {
        "given_name": given or None,
        "family_name": family or None,
        "birth_date": date_iso(record.get("birth_date")),
        "sex": normalise_sex(record.get("sex")),
        "region": normalise_place(record.get("region")) or None,
        "municipality": normalise_place(record.get("municipality")) or None,
        "mother_name": mother or None,
    }


#: The normaliser of each standard person field (one value at a time).
FIELD_NORMALISERS: dict[str, Callable[[Any], str | None]] = {
    "given_name": name_key,
    "family_name": name_key,
    "mother_name": name_key,
    "birth_date": date_iso,
    "sex": normalise_sex,
    "region": normalise_place,
    "municipality": normalise_place,
}


def _map_unique(series: pd.Series, func: Any) -> pd.Series:
    """Apply func once per distinct value; empty results become missing."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    mapped = [func(v) or None for v in uniques]
    values = np.array([*mapped, None], dtype=object)
    return pd.Series(values[codes], index=series.index, dtype=object)


def normalise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Normalised copy of the standard person columns present in df (other columns kept)."""
    out = df.copy()
    for col, func in FIELD_NORMALISERS.items():
        if col in out.columns:
            out[col] = _map_unique(out[col], func)
    return out
