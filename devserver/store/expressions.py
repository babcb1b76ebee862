"""DynamoDB's expression language: condition, filter, key condition, update and projection.

Each expression is parsed once per request, with its `#name` and `:value` placeholders resolved
at parse time (an unknown placeholder, an unused one or a bare reserved word is refused as
DynamoDB refuses it), then evaluated against items in their wire form.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from devserver.store import values as v
from devserver.store.errors import validation
from devserver.store.values import AttributeValue, Item

PathElement = str | int

_TOKEN = re.compile(
    r"\s*(?:(?P<name>#[A-Za-z0-9_]+)|(?P<value>:[A-Za-z0-9_]+)|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<number>\d+)|(?P<op><>|<=|>=|[=<>()\[\],.+-]))"
)
_KEYWORDS = {"AND", "OR", "NOT", "BETWEEN", "IN"}
_CLAUSES = ("SET", "REMOVE", "ADD", "DELETE")
_COMPARATORS = ("=", "<>", "<", "<=", ">", ">=")
_CONDITION_FUNCTIONS = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
}
MAX_IN_OPERANDS = 100
_INVALID_UPDATE_PATH = "The document path provided in the update expression is invalid for update"


@functools.cache
def reserved_words() -> frozenset[str]:
    """DynamoDB's reserved words, which an expression may only name through `#placeholders`.

    The list ships with moto (a dev dependency): the same words DynamoDB refuses.
    """
    try:
        text = (
            importlib.resources.files("moto.dynamodb.parsing")
            .joinpath("reserved_keywords.txt")
            .read_text()
        )
    except (ModuleNotFoundError, FileNotFoundError):
        return frozenset()
    return frozenset(word.strip().upper() for word in text.split() if word.strip())


# --- syntax tree -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Path:
    elements: tuple[PathElement, ...]

    def __str__(self) -> str:
        text = ""
        for element in self.elements:
            text += f"[{element}]" if isinstance(element, int) else f".{element}"
        return text.lstrip(".")


@dataclass(frozen=True)
class Value:
    value: AttributeValue


@dataclass(frozen=True)
class Size:
    path: Path


@dataclass(frozen=True)
class IfNotExists:
    path: Path
    default: Any


@dataclass(frozen=True)
class ListAppend:
    first: Any
    second: Any


@dataclass(frozen=True)
class Arithmetic:
    operator: str
    left: Any
    right: Any


@dataclass(frozen=True)
class Comparison:
    operator: str
    left: Any
    right: Any


@dataclass(frozen=True)
class Between:
    operand: Any
    low: Any
    high: Any


@dataclass(frozen=True)
class In:
    operand: Any
    options: tuple[Any, ...]


@dataclass(frozen=True)
class Function:
    name: str
    arguments: tuple[Any, ...]


@dataclass(frozen=True)
class And:
    left: Any
    right: Any


@dataclass(frozen=True)
class Or:
    left: Any
    right: Any


@dataclass(frozen=True)
class Not:
    operand: Any


Condition = Comparison | Between | In | Function | And | Or | Not


@dataclass
class Update:
    set: list[tuple[Path, Any]] = field(default_factory=list)
    remove: list[Path] = field(default_factory=list)
    add: list[tuple[Path, AttributeValue]] = field(default_factory=list)
    delete: list[tuple[Path, AttributeValue]] = field(default_factory=list)

    def paths(self) -> list[Path]:
        return (
            [p for p, _ in self.set]
            + list(self.remove)
            + [p for p, _ in self.add]
            + [p for p, _ in self.delete]
        )


# --- placeholders ----------------------------------------------------------------------------


class Placeholders:
    """A request's ExpressionAttributeNames and -Values, and which of them its expressions used."""

    def __init__(self, request: dict[str, Any], has_expression: bool):
        names = request.get("ExpressionAttributeNames")
        values = request.get("ExpressionAttributeValues")
        for label, given in (
            ("ExpressionAttributeNames", names),
            ("ExpressionAttributeValues", values),
        ):
            if given is None:
                continue
            if not isinstance(given, dict):
                raise validation(f"{label} must be a map")
            if not given:
                raise validation(f"{label} must not be empty")
            if not has_expression:
                raise validation(f"{label} can only be specified when using expressions")
        self.names: dict[str, str] = dict(names or {})
        self.values: dict[str, AttributeValue] = {}
        for key, value in (values or {}).items():
            try:
                self.values[key] = v.normalized(value)
            except Exception as error:
                message = getattr(error, "message", str(error))
                raise validation(
                    f"ExpressionAttributeValues contains invalid value: {message} for key {key}"
                ) from None
        self.used_names: set[str] = set()
        self.used_values: set[str] = set()

    def name(self, placeholder: str, kind: str) -> str:
        if placeholder not in self.names:
            raise validation(
                f"Invalid {kind}: An expression attribute name used in the document path is not "
                f"defined; attribute name: {placeholder}"
            )
        self.used_names.add(placeholder)
        return self.names[placeholder]

    def value(self, placeholder: str, kind: str) -> AttributeValue:
        if placeholder not in self.values:
            raise validation(
                f"Invalid {kind}: An expression attribute value used in expression is not "
                f"defined; attribute value: {placeholder}"
            )
        self.used_values.add(placeholder)
        return self.values[placeholder]

    def check_all_used(self) -> None:
        unused_names = sorted(set(self.names) - self.used_names)
        if unused_names:
            raise validation(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: "
                f"{{{', '.join(unused_names)}}}"
            )
        unused_values = sorted(set(self.values) - self.used_values)
        if unused_values:
            raise validation(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: "
                f"{{{', '.join(unused_values)}}}"
            )


# --- parser ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str


@functools.lru_cache(maxsize=1024)
def _tokens(text: str, kind: str) -> tuple[_Token, ...]:
    tokens: list[_Token] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            near = text[position : position + 10].strip()
            raise validation(f'Invalid {kind}: Syntax error; token: "{near[:1]}", near: "{near}"')
        group = match.lastgroup or "op"
        tokens.append(_Token(group, match.group(group)))
        position = match.end()
    return tuple(tokens)


class _Parser:
    def __init__(self, text: Any, kind: str, placeholders: Placeholders):
        if not isinstance(text, str):
            raise validation(f"Invalid {kind}: the expression must be a string")
        if not text.strip():
            raise validation(f"Invalid {kind}: The expression can not be empty;")
        self.kind = kind
        self.placeholders = placeholders
        self.tokens = _tokens(text, kind)
        self.position = 0

    # token helpers

    def peek(self, offset: int = 0) -> _Token | None:
        index = self.position + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def next(self) -> _Token:
        token = self.peek()
        if token is None:
            raise validation(f"Invalid {self.kind}: Syntax error; token: <EOF>, near: end")
        self.position += 1
        return token

    def at(self, text: str) -> bool:
        token = self.peek()
        if token is None:
            return False
        if token.kind == "ident":
            return token.text.upper() == text
        return token.kind == "op" and token.text == text

    def expect(self, text: str) -> None:
        token = self.next()
        matches = token.text.upper() == text if token.kind == "ident" else token.text == text
        if not matches:
            self.syntax_error(token)

    def syntax_error(self, token: _Token | None = None) -> None:
        shown = token.text if token else "<EOF>"
        raise validation(f'Invalid {self.kind}: Syntax error; token: "{shown}", near: "{shown}"')

    def done(self) -> None:
        token = self.peek()
        if token is not None:
            self.syntax_error(token)

    # paths and operands

    def path(self) -> Path:
        elements: list[PathElement] = [self.path_name()]
        while True:
            if self.at("."):
                self.next()
                elements.append(self.path_name())
            elif self.at("["):
                self.next()
                token = self.next()
                if token.kind != "number":
                    self.syntax_error(token)
                elements.append(int(token.text))
                self.expect("]")
            else:
                return Path(tuple(elements))

    def path_name(self) -> str:
        token = self.next()
        if token.kind == "name":
            return self.placeholders.name(token.text, self.kind)
        if token.kind == "ident" and token.text.upper() not in _KEYWORDS:
            if token.text.upper() in reserved_words():
                raise validation(
                    f"Invalid {self.kind}: Attribute name is a reserved keyword; reserved "
                    f"keyword: {token.text}"
                )
            return token.text
        self.syntax_error(token)
        raise AssertionError  # unreachable

    def operand(self) -> Any:
        token = self.peek()
        if token is None:
            self.syntax_error()
        assert token is not None
        if token.kind == "value":
            self.next()
            return Value(self.placeholders.value(token.text, self.kind))
        if token.kind == "ident" and token.text == "size" and self.is_call():
            self.next()
            self.expect("(")
            path = self.path()
            self.expect(")")
            return Size(path)
        return self.path()

    def is_call(self) -> bool:
        following = self.peek(1)
        return following is not None and following.kind == "op" and following.text == "("

    # conditions

    def condition(self) -> Any:
        left = self.conjunction()
        while self.at("OR"):
            self.next()
            left = Or(left, self.conjunction())
        return left

    def conjunction(self) -> Any:
        left = self.negation()
        while self.at("AND"):
            self.next()
            left = And(left, self.negation())
        return left

    def negation(self) -> Any:
        if self.at("NOT"):
            self.next()
            return Not(self.negation())
        return self.predicate()

    def predicate(self) -> Any:
        if self.at("("):
            self.next()
            inner = self.condition()
            self.expect(")")
            return inner
        token = self.peek()
        if token is not None and token.kind == "ident" and self.is_call():
            if token.text in _CONDITION_FUNCTIONS:
                return self.function()
            if token.text != "size":
                raise validation(
                    f"Invalid {self.kind}: Invalid function name; function: {token.text}"
                )
        left = self.operand()
        token = self.peek()
        if token is not None and token.kind == "op" and token.text in _COMPARATORS:
            self.next()
            return Comparison(token.text, left, self.operand())
        if self.at("BETWEEN"):
            self.next()
            low = self.operand()
            self.expect("AND")
            high = self.operand()
            if isinstance(low, Value) and isinstance(high, Value):
                order = v.compare(low.value, high.value)
                if order is not None and order > 0:
                    raise validation(
                        f"Invalid {self.kind}: The BETWEEN operator requires upper bound to be "
                        "greater than or equal to lower bound"
                    )
            return Between(left, low, high)
        if self.at("IN"):
            self.next()
            self.expect("(")
            options = [self.operand()]
            while self.at(","):
                self.next()
                options.append(self.operand())
            self.expect(")")
            if len(options) > MAX_IN_OPERANDS:
                raise validation(
                    f"Invalid {self.kind}: The IN operator is provided with too many operands; "
                    f"number of operands: {len(options)}"
                )
            return In(left, tuple(options))
        self.syntax_error(token)
        raise AssertionError  # unreachable

    def function(self) -> Function:
        name = self.next().text
        self.expect("(")
        arguments = [self.operand()]
        while self.at(","):
            self.next()
            arguments.append(self.operand())
        self.expect(")")
        if len(arguments) != _CONDITION_FUNCTIONS[name]:
            raise validation(
                f"Invalid {self.kind}: Incorrect number of operands for operator or function; "
                f"operator or function: {name}, number of operands: {len(arguments)}"
            )
        if not isinstance(arguments[0], Path):
            raise validation(
                f"Invalid {self.kind}: Operator or function requires a document path; "
                f"operator or function: {name}"
            )
        if name == "attribute_type":
            kind = arguments[1]
            if not isinstance(kind, Value) or kind.value.get("S") not in v.TYPES:
                raise validation(
                    f"Invalid {self.kind}: Invalid attribute type name found; type: "
                    f"{kind.value if isinstance(kind, Value) else kind}, valid types: "
                    "{B,NULL,SS,BOOL,L,BS,N,NS,S,M}"
                )
        return Function(name, tuple(arguments))

    # updates

    def update(self) -> Update:
        update = Update()
        seen: set[str] = set()
        while self.peek() is not None:
            token = self.next()
            clause = token.text.upper() if token.kind == "ident" else ""
            if clause not in _CLAUSES:
                self.syntax_error(token)
            if clause in seen:
                raise validation(
                    f'Invalid {self.kind}: The "{clause}" section can only be used once in an '
                    "update expression;"
                )
            seen.add(clause)
            while True:
                if clause == "SET":
                    path = self.path()
                    self.expect("=")
                    update.set.append((path, self.set_value()))
                elif clause == "REMOVE":
                    update.remove.append(self.path())
                else:
                    path = self.path()
                    token = self.next()
                    if token.kind != "value":
                        self.syntax_error(token)
                    value = self.placeholders.value(token.text, self.kind)
                    (update.add if clause == "ADD" else update.delete).append((path, value))
                if not self.at(","):
                    break
                self.next()
        _check_no_overlap(update.paths(), self.kind)
        return update

    def set_value(self) -> Any:
        left = self.set_operand()
        if self.at("+") or self.at("-"):
            operator = self.next().text
            return Arithmetic(operator, left, self.set_operand())
        return left

    def set_operand(self) -> Any:
        token = self.peek()
        if token is not None and token.kind == "ident" and self.is_call():
            name = self.next().text
            self.expect("(")
            if name == "if_not_exists":
                path = self.path()
                self.expect(",")
                default = self.set_operand()
                self.expect(")")
                return IfNotExists(path, default)
            if name == "list_append":
                first = self.set_operand()
                self.expect(",")
                second = self.set_operand()
                self.expect(")")
                return ListAppend(first, second)
            raise validation(f"Invalid {self.kind}: Invalid function name; function: {name}")
        if token is not None and token.kind == "value":
            self.next()
            return Value(self.placeholders.value(token.text, self.kind))
        return self.path()


def _check_no_overlap(paths: list[Path], kind: str) -> None:
    for index, first in enumerate(paths):
        for second in paths[index + 1 :]:
            shorter = min(len(first.elements), len(second.elements))
            if first.elements[:shorter] == second.elements[:shorter]:
                raise validation(
                    f"Invalid {kind}: Two document paths overlap with each other; must remove or "
                    f"rewrite one of these paths; path one: [{first}], path two: [{second}]"
                )


def parse_condition(text: Any, kind: str, placeholders: Placeholders) -> Any:
    parser = _Parser(text, kind, placeholders)
    tree = parser.condition()
    parser.done()
    return tree


def parse_update(text: Any, placeholders: Placeholders) -> Update:
    parser = _Parser(text, "UpdateExpression", placeholders)
    return parser.update()


def parse_projection(text: Any, placeholders: Placeholders) -> list[Path]:
    parser = _Parser(text, "ProjectionExpression", placeholders)
    paths = [parser.path()]
    while parser.at(","):
        parser.next()
        paths.append(parser.path())
    parser.done()
    _check_no_overlap(paths, "ProjectionExpression")
    return paths


# --- evaluation ------------------------------------------------------------------------------


def resolve(item: Item, path: Path) -> AttributeValue | None:
    first = path.elements[0]
    current = item.get(first) if isinstance(first, str) else None
    for element in path.elements[1:]:
        if current is None:
            return None
        if isinstance(element, int):
            items = current.get("L")
            current = items[element] if items is not None and element < len(items) else None
        else:
            members = current.get("M")
            current = members.get(element) if members is not None else None
    return current


def _operand(item: Item, operand: Any) -> AttributeValue | None:
    if isinstance(operand, Value):
        return operand.value
    if isinstance(operand, Path):
        return resolve(item, operand)
    if isinstance(operand, Size):
        target = resolve(item, operand.path)
        if target is None:
            return None
        kind = v.type_of(target)
        if kind == "S":
            return {"N": str(len(target["S"]))}
        if kind == "B":
            return {"N": str(v.value_size(target))}
        if kind in v.SET_TYPES or kind in ("L", "M"):
            return {"N": str(len(target[kind]))}
        raise validation(
            "Invalid ConditionExpression: Incorrect operand type for operator or function; "
            f"operator or function: size, operand type: {kind}"
        )
    raise AssertionError(operand)


def evaluate(condition: Any, item: Item | None) -> bool:
    """Whether `item` (None: no such item) satisfies `condition`."""
    return _evaluate(condition, item or {})


def _evaluate(condition: Any, item: Item) -> bool:
    if isinstance(condition, And):
        return _evaluate(condition.left, item) and _evaluate(condition.right, item)
    if isinstance(condition, Or):
        return _evaluate(condition.left, item) or _evaluate(condition.right, item)
    if isinstance(condition, Not):
        return not _evaluate(condition.operand, item)
    if isinstance(condition, Comparison):
        left, right = _operand(item, condition.left), _operand(item, condition.right)
        if condition.operator == "=":
            return left is not None and v.equal(left, right)
        if condition.operator == "<>":
            return not v.equal(left, right)
        order = v.compare(left, right)
        if order is None:
            return False
        return _ORDERED[condition.operator](order)
    if isinstance(condition, Between):
        value = _operand(item, condition.operand)
        low = v.compare(value, _operand(item, condition.low))
        high = v.compare(value, _operand(item, condition.high))
        return low is not None and high is not None and low >= 0 and high <= 0
    if isinstance(condition, In):
        value = _operand(item, condition.operand)
        return value is not None and any(
            v.equal(value, _operand(item, option)) for option in condition.options
        )
    if isinstance(condition, Function):
        return _function(condition, item)
    raise AssertionError(condition)


_ORDERED: dict[str, Callable[[int], bool]] = {
    "<": lambda order: order < 0,
    "<=": lambda order: order <= 0,
    ">": lambda order: order > 0,
    ">=": lambda order: order >= 0,
}


def _function(function: Function, item: Item) -> bool:
    target = _operand(item, function.arguments[0])
    if function.name == "attribute_exists":
        return target is not None
    if function.name == "attribute_not_exists":
        return target is None
    argument = _operand(item, function.arguments[1])
    if target is None or argument is None:
        return False
    if function.name == "attribute_type":
        return v.type_of(target) == argument["S"]
    kind, wanted = v.type_of(target), v.type_of(argument)
    if function.name == "begins_with":
        if kind == wanted == "S":
            return bool(target["S"].startswith(argument["S"]))
        if kind == wanted == "B":
            return v.sort_key(target).startswith(v.sort_key(argument))
        return False
    # contains
    if kind == wanted == "S":
        return argument["S"] in target["S"]
    if kind in v.SET_TYPES and v.SET_TYPES[kind] == wanted:
        return v.sort_key(argument) in v.set_members(target)
    if kind == "L":
        return any(v.equal(member, argument) for member in target["L"])
    return False


# --- updates ---------------------------------------------------------------------------------


def apply_update(update: Update, item: Item | None, key: Item) -> Item:
    """The item after `update`; `item` is None when it does not exist yet (the key starts it)."""
    original: Item = item if item is not None else dict(key)
    result: Item = dict(original)
    copied: set[str] = set()
    # Every SET value is computed from the item as it was before the update.
    assignments = [(path, _set_value(original, value)) for path, value in update.set]
    for path, value in assignments:
        _assign(result, path, value, copied)
    for path in update.remove:
        _remove(result, path, copied)
    for path, value in update.add:
        current = resolve(result, path)
        _assign(result, path, _add(current, value), copied)
    for path, value in update.delete:
        current = resolve(result, path)
        if current is None:
            continue
        remaining = _delete(current, value)
        if remaining is None:
            _remove(result, path, copied)
        else:
            _assign(result, path, remaining, copied)
    return result


def _set_value(item: Item, operand: Any) -> AttributeValue:
    if isinstance(operand, Value):
        return operand.value
    if isinstance(operand, Path):
        found = resolve(item, operand)
        if found is None:
            raise validation(
                "The provided expression refers to an attribute that does not exist in the item"
            )
        return found
    if isinstance(operand, IfNotExists):
        found = resolve(item, operand.path)
        return found if found is not None else _set_value(item, operand.default)
    if isinstance(operand, ListAppend):
        first, second = _set_value(item, operand.first), _set_value(item, operand.second)
        if v.type_of(first) != "L" or v.type_of(second) != "L":
            raise validation("An operand in the update expression has an incorrect data type")
        return {"L": first["L"] + second["L"]}
    if isinstance(operand, Arithmetic):
        left, right = _set_value(item, operand.left), _set_value(item, operand.right)
        if v.type_of(left) != "N" or v.type_of(right) != "N":
            raise validation("An operand in the update expression has an incorrect data type")
        a, b = v.number(left["N"]), v.number(right["N"])
        result = v.add_numbers(a, b) if operand.operator == "+" else v.subtract_numbers(a, b)
        return {"N": v.number_text(result)}
    raise AssertionError(operand)


def _add(current: AttributeValue | None, value: AttributeValue) -> AttributeValue:
    kind = v.type_of(value)
    if kind != "N" and kind not in v.SET_TYPES:
        raise validation(
            "Invalid UpdateExpression: Incorrect operand type for operator or function; "
            f"operator: ADD, operand type: {_type_name(kind)}"
        )
    if current is None:
        return value
    if v.type_of(current) != kind:
        raise validation("An operand in the update expression has an incorrect data type")
    if kind == "N":
        total = v.add_numbers(v.number(current["N"]), v.number(value["N"]))
        return {"N": v.number_text(total)}
    members = v.set_members(current)
    for member_key, member in v.set_members(value).items():
        members.setdefault(member_key, member)
    return {kind: list(members.values())}


def _delete(current: AttributeValue, value: AttributeValue) -> AttributeValue | None:
    kind = v.type_of(value)
    if kind not in v.SET_TYPES:
        raise validation(
            "Invalid UpdateExpression: Incorrect operand type for operator or function; "
            f"operator: DELETE, operand type: {_type_name(kind)}"
        )
    if v.type_of(current) != kind:
        raise validation("An operand in the update expression has an incorrect data type")
    removed = v.set_members(value)
    remaining = [m for k, m in v.set_members(current).items() if k not in removed]
    return {kind: remaining} if remaining else None


def _type_name(kind: str) -> str:
    return {"S": "STRING", "N": "NUMBER", "B": "BINARY", "M": "MAP", "L": "LIST"}.get(kind, kind)


def _container(result: Item, path: Path, copied: set[str]) -> AttributeValue | None:
    """The (copied, so modifiable) value holding the last element of `path`, or None."""
    top = path.elements[0]
    assert isinstance(top, str)
    current = result.get(top)
    if current is None:
        return None
    if top not in copied:
        current = v.copy_value(current)
        result[top] = current
        copied.add(top)
    for element in path.elements[1:-1]:
        if isinstance(element, int):
            items = current.get("L")
            if items is None or element >= len(items):
                return None
            current = items[element]
        else:
            members = current.get("M")
            if members is None or element not in members:
                return None
            current = members[element]
    return current


def _assign(result: Item, path: Path, value: AttributeValue, copied: set[str]) -> None:
    if len(path.elements) == 1:
        top = path.elements[0]
        assert isinstance(top, str)
        result[top] = value
        copied.discard(top)
        return
    parent = _container(result, path, copied)
    last = path.elements[-1]
    if parent is None:
        raise validation(_INVALID_UPDATE_PATH)
    if isinstance(last, int):
        items = parent.get("L")
        if items is None:
            raise validation(_INVALID_UPDATE_PATH)
        if last < len(items):
            items[last] = value
        else:
            items.append(value)
    else:
        members = parent.get("M")
        if members is None:
            raise validation(_INVALID_UPDATE_PATH)
        members[last] = value


def _remove(result: Item, path: Path, copied: set[str]) -> None:
    if len(path.elements) == 1:
        top = path.elements[0]
        assert isinstance(top, str)
        result.pop(top, None)
        return
    parent = _container(result, path, copied)
    if parent is None:
        return
    last = path.elements[-1]
    if isinstance(last, int):
        items = parent.get("L")
        if items is not None and last < len(items):
            del items[last]
    else:
        members = parent.get("M")
        if members is not None:
            members.pop(last, None)


# --- projection ------------------------------------------------------------------------------


def project(item: Item, paths: list[Path]) -> Item:
    """Only the attributes at `paths`, nested as in the item (list elements kept in order)."""
    tree: dict[PathElement, Any] = {}
    for path in paths:
        found = resolve(item, path)
        if found is None:
            continue
        node = tree
        for depth, element in enumerate(path.elements[:-1]):
            holder = resolve(item, Path(path.elements[: depth + 1]))
            assert holder is not None
            child = node.get(element)
            if not isinstance(child, _Node):
                child = node[element] = _Node(v.type_of(holder))
            node = child.children
        node[path.elements[-1]] = found
    return {str(name): _build(value) for name, value in tree.items()}


@dataclass
class _Node:
    kind: str
    children: dict[PathElement, Any] = field(default_factory=dict)


def _build(node: Any) -> AttributeValue:
    if not isinstance(node, _Node):
        return dict(node)
    children = {key: _build(child) for key, child in node.children.items()}
    if node.kind == "L":
        return {"L": [children[index] for index in sorted(children, key=int)]}
    return {"M": {str(key): child for key, child in children.items()}}
