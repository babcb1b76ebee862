"""DynamoDB attribute values in their wire form (`{"S": "x"}`, `{"N": "1"}`, ...).

Items are stored exactly as the wire carries them, numbers normalized, so a read answers with
the stored dict and nothing is converted on the hot path. Stored items are never mutated: an
update builds a new item, which is what lets readers go without a lock.
"""

from __future__ import annotations

import base64
import binascii
import decimal
import functools
from decimal import Decimal
from typing import Any

from devserver.store.errors import validation

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]

TYPES = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")
SCALAR_KEY_TYPES = ("S", "N", "B")
SET_TYPES = {"SS": "S", "NS": "N", "BS": "B"}
MAX_ITEM_BYTES = 400 * 1024
MAX_KEY_BYTES = {"HASH": 2048, "RANGE": 1024}
MAX_DEPTH = 32

_CONTEXT = decimal.Context(
    prec=38, Emin=-130, Emax=125, rounding=decimal.ROUND_HALF_EVEN, traps=[decimal.Overflow]
)


def type_of(value: AttributeValue) -> str:
    return next(iter(value))


@functools.lru_cache(maxsize=8192)
def number(text: str) -> Decimal:
    """A Number's value, refused as DynamoDB refuses it (not a number, over 38 digits, range)."""
    try:
        value = Decimal(text)
    except decimal.InvalidOperation:
        value = Decimal("nan")
    if not value.is_finite() or text.strip() != text:
        raise validation("A value provided cannot be converted into a number")
    if value.is_zero():
        return Decimal(0)
    digits = value.normalize(_CONTEXT).as_tuple().digits
    if len(digits) > 38:
        raise validation("Attempting to store more than 38 significant digits in a Number")
    if value.copy_abs() > Decimal("9.9999999999999999999999999999999999999E+125"):
        raise validation(
            "Number overflow. Attempting to store a number with magnitude larger than "
            "supported range"
        )
    if value.copy_abs() < Decimal("1E-130"):
        raise validation(
            "Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range"
        )
    return value


def number_text(value: Decimal) -> str:
    """The canonical text DynamoDB answers with: no exponent, no trailing zeros."""
    if value.is_zero():
        return "0"
    text = format(value.normalize(_CONTEXT), "f")
    return text


def add_numbers(a: Decimal, b: Decimal) -> Decimal:
    try:
        result = _CONTEXT.add(a, b)
    except decimal.Overflow:
        raise validation(
            "Number overflow. Attempting to store a number with magnitude larger than "
            "supported range"
        ) from None
    return number(number_text(result))


def subtract_numbers(a: Decimal, b: Decimal) -> Decimal:
    return add_numbers(a, -b)


def _binary(text: Any) -> bytes:
    if not isinstance(text, str):
        raise validation("Invalid base64 binary value")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise validation("Invalid base64 binary value") from None


def normalized(value: Any, depth: int = 0) -> AttributeValue:
    """A request's attribute value, checked and with its numbers in canonical form."""
    if not isinstance(value, dict) or len(value) != 1:
        raise validation(
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
        )
    if depth > MAX_DEPTH:
        raise validation("Nesting Levels have exceeded supported limits")
    kind, inner = next(iter(value.items()))
    if kind == "S":
        if not isinstance(inner, str):
            raise validation("Supplied AttributeValue S is not a string")
        return value
    if kind == "N":
        if not isinstance(inner, str):
            raise validation("Supplied AttributeValue N is not a string")
        return {"N": number_text(number(inner))}
    if kind == "B":
        _binary(inner)
        return value
    if kind == "BOOL":
        if not isinstance(inner, bool):
            raise validation("Supplied AttributeValue BOOL is not a boolean")
        return value
    if kind == "NULL":
        if inner is not True:
            raise validation(
                "One or more parameter values were invalid: "
                "Null attribute value types must have the value of true"
            )
        return value
    if kind in SET_TYPES:
        if not isinstance(inner, list) or not inner:
            raise validation(
                "One or more parameter values were invalid: An string set  may not be empty"
                if kind == "SS"
                else f"One or more parameter values were invalid: An {kind} may not be empty"
            )
        members = [
            normalized({SET_TYPES[kind]: member}, depth + 1)[SET_TYPES[kind]] for member in inner
        ]
        if len({_member_key(kind, m) for m in members}) != len(members):
            raise validation(
                "One or more parameter values were invalid: Input collection "
                f"{inner} contains duplicates."
            )
        return {kind: members}
    if kind == "L":
        if not isinstance(inner, list):
            raise validation("Supplied AttributeValue L is not a list")
        return {"L": [normalized(member, depth + 1) for member in inner]}
    if kind == "M":
        if not isinstance(inner, dict):
            raise validation("Supplied AttributeValue M is not a map")
        return {"M": {str(k): normalized(v, depth + 1) for k, v in inner.items()}}
    raise validation(
        "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
    )


def normalized_item(item: Any, what: str = "Item") -> Item:
    if not isinstance(item, dict):
        raise validation(f"{what} must be a map of attribute values")
    return {str(name): normalized(value) for name, value in item.items()}


def _member_key(set_type: str, member: str) -> Any:
    if set_type == "NS":
        return number(member)
    if set_type == "BS":
        return _binary(member)
    return member


def sort_key(value: AttributeValue) -> Any:
    """What a key attribute sorts by: code points for S (the same order as UTF-8 bytes),
    the numeric value for N, the bytes for B."""
    kind, inner = next(iter(value.items()))
    if kind == "N":
        return number(inner)
    if kind == "B":
        return _binary(inner)
    return inner


def equal(a: AttributeValue | None, b: AttributeValue | None) -> bool:
    if a is None or b is None:
        return a is b
    kind_a, kind_b = type_of(a), type_of(b)
    if kind_a != kind_b:
        return False
    if kind_a == "N":
        return number(a["N"]) == number(b["N"])
    if kind_a == "B":
        return _binary(a["B"]) == _binary(b["B"])
    if kind_a in SET_TYPES:
        return {_member_key(kind_a, m) for m in a[kind_a]} == {
            _member_key(kind_a, m) for m in b[kind_b]
        }
    if kind_a == "L":
        return len(a["L"]) == len(b["L"]) and all(
            equal(x, y) for x, y in zip(a["L"], b["L"], strict=True)
        )
    if kind_a == "M":
        return a["M"].keys() == b["M"].keys() and all(
            equal(v, b["M"][k]) for k, v in a["M"].items()
        )
    return bool(a[kind_a] == b[kind_b])


def compare(a: AttributeValue | None, b: AttributeValue | None) -> int | None:
    """-1, 0 or 1 for two values of one ordered type (S, N, B); None when they do not compare."""
    if a is None or b is None:
        return None
    kind = type_of(a)
    if kind != type_of(b) or kind not in SCALAR_KEY_TYPES:
        return None
    left, right = sort_key(a), sort_key(b)
    return (left > right) - (left < right)


def set_members(value: AttributeValue) -> dict[Any, str]:
    kind = type_of(value)
    return {_member_key(kind, m): m for m in value[kind]}


def value_size(value: AttributeValue) -> int:
    """DynamoDB's item size accounting for one value."""
    kind, inner = next(iter(value.items()))
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "N":
        return _number_size(inner)
    if kind == "B":
        return len(_binary(inner))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(m.encode("utf-8")) for m in inner)
    if kind == "NS":
        return sum(_number_size(m) for m in inner)
    if kind == "BS":
        return sum(len(_binary(m)) for m in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    return 3 + sum(1 + len(k.encode("utf-8")) + value_size(v) for k, v in inner.items())


def _number_size(text: str) -> int:
    digits = len(text.replace("-", "").replace(".", "").strip("0")) or 1
    return (digits + 1) // 2 + 1


def item_size(item: Item) -> int:
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def copy_value(value: AttributeValue) -> AttributeValue:
    """A copy deep enough to modify: maps and lists are copied, scalars shared."""
    kind, inner = next(iter(value.items()))
    if kind == "M":
        return {"M": {k: copy_value(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [copy_value(v) for v in inner]}
    if kind in SET_TYPES:
        return {kind: list(inner)}
    return value
