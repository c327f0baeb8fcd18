"""Per-language tables for the chunker: which syntax nodes are definitions, and how to
read their names.

``DEFS`` maps a node type to a chunk kind. ``WRAPPERS`` are nodes that wrap a single
definition (``export``, decorators, ``template <…>``): a lone definition inside one takes
the wrapper's lines. ``TRANSPARENT`` nodes are searched for definitions without being
definitions themselves (``if TYPE_CHECKING:`` blocks, ``#ifdef`` sections, enum bodies).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Node

# Kinds whose bodies are searched for member definitions.
CONTAINER_KINDS = frozenset(
    {"class", "interface", "struct", "enum", "impl", "trait", "module", "block"}
)
# Kinds that become ``method`` inside a container.
FUNCTION_KINDS = frozenset({"function"})


@dataclass(frozen=True)
class LanguageRules:
    """Syntax node types of one grammar that matter to the chunker."""

    defs: dict[str, str]
    wrappers: frozenset[str] = frozenset()
    transparent: frozenset[str] = frozenset()
    comment_prefixes: tuple[str, ...] = ("//", "/*", "*")


_C_LIKE_COMMENTS = ("//", "/*", "*", "*/")
_JS_DEFS = {
    "function_declaration": "function",
    "generator_function_declaration": "function",
    "class_declaration": "class",
    "abstract_class_declaration": "class",
    "method_definition": "method",
    "interface_declaration": "interface",
    "enum_declaration": "enum",
    "type_alias_declaration": "type",
    "internal_module": "module",
    "module": "module",
    "variable_declarator": "function",  # only with a function value (see chunker)
    "public_field_definition": "method",  # idem
    "field_definition": "method",  # idem
    "abstract_method_signature": "method",
    "call_expression": "block",  # only with a callback body: IIFEs, describe(…), define(…)
}
_JS = LanguageRules(
    defs=_JS_DEFS,
    wrappers=frozenset(
        {"export_statement", "lexical_declaration", "variable_declaration",
         "expression_statement", "ambient_declaration"}
    ),
    comment_prefixes=(*_C_LIKE_COMMENTS, "@"),
)
_C_DEFS = {
    "function_definition": "function",
    "struct_specifier": "struct",
    "union_specifier": "struct",
    "enum_specifier": "enum",
    "type_definition": "struct",  # only around a struct/union/enum body
}
_C_TRANSPARENT = frozenset(
    {"preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif", "preproc_elifdef",
     "linkage_specification", "declaration_list"}
)

RULES: dict[str, LanguageRules] = {
    "python": LanguageRules(
        defs={"function_definition": "function", "class_definition": "class"},
        wrappers=frozenset({"decorated_definition"}),
        transparent=frozenset(
            {"if_statement", "elif_clause", "else_clause", "try_statement", "except_clause",
             "finally_clause", "with_statement", "block"}
        ),
        comment_prefixes=("#", "@"),
    ),
    "javascript": _JS,
    "typescript": _JS,
    "tsx": _JS,
    "go": LanguageRules(
        defs={
            "function_declaration": "function",
            "method_declaration": "method",
            "type_spec": "type",
        },
        wrappers=frozenset({"type_declaration"}),
        comment_prefixes=_C_LIKE_COMMENTS,
    ),
    "rust": LanguageRules(
        defs={
            "function_item": "function",
            "function_signature_item": "method",
            "struct_item": "struct",
            "union_item": "struct",
            "enum_item": "enum",
            "trait_item": "trait",
            "impl_item": "impl",
            "mod_item": "module",
            "macro_definition": "macro",
        },
        comment_prefixes=(*_C_LIKE_COMMENTS, "#["),
    ),
    "java": LanguageRules(
        defs={
            "class_declaration": "class",
            "record_declaration": "class",
            "interface_declaration": "interface",
            "annotation_type_declaration": "interface",
            "enum_declaration": "enum",
            "method_declaration": "method",
            "constructor_declaration": "method",
            "compact_constructor_declaration": "method",
        },
        transparent=frozenset({"enum_body_declarations"}),
        comment_prefixes=(*_C_LIKE_COMMENTS, "@"),
    ),
    "c": LanguageRules(defs=_C_DEFS, transparent=_C_TRANSPARENT),
    "cpp": LanguageRules(
        defs={**_C_DEFS, "class_specifier": "class", "namespace_definition": "module"},
        wrappers=frozenset({"template_declaration"}),
        transparent=_C_TRANSPARENT,
    ),
    "c_sharp": LanguageRules(
        defs={
            "class_declaration": "class",
            "record_declaration": "class",
            "struct_declaration": "struct",
            "interface_declaration": "interface",
            "enum_declaration": "enum",
            "namespace_declaration": "module",
            "method_declaration": "method",
            "constructor_declaration": "method",
            "destructor_declaration": "method",
            "operator_declaration": "method",
            "conversion_operator_declaration": "method",
            "property_declaration": "property",
            "delegate_declaration": "type",
        },
        comment_prefixes=(*_C_LIKE_COMMENTS, "["),
    ),
    "ruby": LanguageRules(
        defs={
            "class": "class",
            "module": "module",
            "method": "function",
            "singleton_method": "method",
        },
        transparent=frozenset({"singleton_class", "body_statement"}),
        comment_prefixes=("#",),
    ),
    "php": LanguageRules(
        defs={
            "class_declaration": "class",
            "interface_declaration": "interface",
            "trait_declaration": "trait",
            "enum_declaration": "enum",
            "function_definition": "function",
            "method_declaration": "method",
            "namespace_definition": "module",  # only with a body
        },
        comment_prefixes=(*_C_LIKE_COMMENTS, "#"),
    ),
    "kotlin": LanguageRules(
        defs={
            "class_declaration": "class",
            "object_declaration": "class",
            "companion_object": "class",
            "function_declaration": "function",
            "secondary_constructor": "method",
        },
        comment_prefixes=(*_C_LIKE_COMMENTS, "@"),
    ),
    "bash": LanguageRules(defs={"function_definition": "function"}, comment_prefixes=("#",)),
}

BODY_TYPES = frozenset(
    {"block", "class_body", "enum_class_body", "declaration_list", "field_declaration_list",
     "body_statement", "statement_block", "interface_body", "enum_body", "object_type",
     "compound_statement", "enum_member_declaration_list", "enum_declaration_list"}
)
_FUNCTION_VALUES = frozenset(
    {"arrow_function", "function_expression", "function", "generator_function"}
)
_NAME_TYPES = frozenset(
    {"identifier", "type_identifier", "field_identifier", "property_identifier", "constant",
     "name", "simple_identifier", "word", "namespace_identifier", "qualified_name"}
)
_C_NAME_TYPES = frozenset(
    {"identifier", "field_identifier", "qualified_identifier", "destructor_name",
     "operator_name", "type_identifier", "template_function", "operator_cast"}
)
_GENERIC_ARGS = re.compile(r"<.*>", re.DOTALL)


def _text(node: Node | None) -> str:
    return "" if node is None or node.text is None else node.text.decode("utf-8", "replace")


def callback_function(node: Node) -> Node | None:
    """The function a JavaScript call runs as a block: ``(function name() {…})()``,
    ``describe("x", () => {…})``, ``define([…], function (a) {…})``."""
    callee = node.child_by_field_name("function")
    if callee is not None and callee.type == "parenthesized_expression":
        callee = callee.named_children[0] if callee.named_children else None
    if callee is not None and callee.type in _FUNCTION_VALUES:
        found: Node | None = callee
    else:
        arguments = node.child_by_field_name("arguments")
        found = arguments.named_children[-1] if arguments and arguments.named_children else None
    if found is None or found.type not in _FUNCTION_VALUES:
        return None
    body = found.child_by_field_name("body")
    if body is None or body.type != "statement_block":
        return None
    return found if body.end_point.row > body.start_point.row + 1 else None


def _call_label(node: Node) -> str | None:
    """A name for a callback block: the function's own name, the first string
    argument (``describe("cart")``) or the called name."""
    function = callback_function(node)
    name = function.child_by_field_name("name") if function is not None else None
    if name is not None:
        return _text(name)
    arguments = node.child_by_field_name("arguments")
    for argument in arguments.named_children if arguments is not None else ():
        if argument.type == "string":
            return _text(argument)[1:-1][:80] or None
    callee = node.child_by_field_name("function")
    if callee is not None and callee.type == "member_expression":
        callee = callee.child_by_field_name("property")
    return _text(callee)[:80] if callee is not None and callee.type in _NAME_TYPES else None


def is_definition(node: Node, language: str) -> bool:
    """Check the conditions some node types need to count as definitions."""
    kind = node.type
    if kind == "call_expression":
        return callback_function(node) is not None
    if kind in {"variable_declarator", "public_field_definition", "field_definition"}:
        return _text_type(node.child_by_field_name("value")) in _FUNCTION_VALUES
    if kind in {"struct_specifier", "union_specifier", "enum_specifier", "mod_item",
                "namespace_definition"}:
        return node.child_by_field_name("body") is not None
    if kind == "type_definition":
        inner = node.child_by_field_name("type")
        return inner is not None and inner.child_by_field_name("body") is not None
    return True


def _text_type(node: Node | None) -> str:
    return "" if node is None else node.type


def definition_kind(node: Node, kind: str, language: str) -> str:
    """Refine the table's kind from the node itself (Go types, Kotlin interfaces…)."""
    if node.type == "call_expression":
        callee = node.child_by_field_name("function")
        return "module" if callee is not None and callee.type != "identifier" and (
            callee.type == "parenthesized_expression" or callee.type in _FUNCTION_VALUES
        ) else "block"
    if node.type == "type_spec":
        inner = _text_type(node.child_by_field_name("type"))
        return {"struct_type": "struct", "interface_type": "interface"}.get(inner, "type")
    if node.type == "type_definition":
        inner = _text_type(node.child_by_field_name("type"))
        return "enum" if inner == "enum_specifier" else "struct"
    if language == "kotlin" and node.type == "class_declaration":
        for child in node.children:
            if child.type == "interface":
                return "interface"
            if child.type == "modifiers" and b"enum" in (child.text or b""):
                return "enum"
    return kind


def _c_declarator(node: Node) -> Node | None:
    current = node.child_by_field_name("declarator")
    while current is not None and current.type not in _C_NAME_TYPES:
        inner = current.child_by_field_name("declarator")
        if inner is None:
            return next((c for c in current.named_children if c.type in _C_NAME_TYPES), None)
        current = inner
    return current


def definition_name(node: Node, language: str) -> tuple[str | None, str | None]:
    """The definition's bare name and, when the syntax says it, its owner.

    Returns:
        ``(name, owner)``: owner is the receiver of a Go method or the class of an
        out-of-line C++ method (``Cart::size``), else ``None``.
    """
    kind = node.type
    if kind == "call_expression":
        return _call_label(node), None
    if kind == "function_definition" and language in {"c", "cpp"}:
        target = _c_declarator(node)
        if target is not None and target.type == "qualified_identifier":
            scope = _text(target.child_by_field_name("scope")) or None
            name_node = target.child_by_field_name("name")
            while name_node is not None and name_node.type == "qualified_identifier":
                name_node = name_node.child_by_field_name("name")
            return _text(name_node) or None, scope
        return (_text(target) or None), None
    if kind == "type_definition":
        return _text(node.child_by_field_name("declarator")) or None, None
    if kind == "impl_item":
        return _GENERIC_ARGS.sub("", _text(node.child_by_field_name("type"))) or None, None
    if kind == "method_declaration" and language == "go":
        receiver = node.child_by_field_name("receiver")
        owner = _first_of(receiver, frozenset({"type_identifier"}))
        return _text(node.child_by_field_name("name")) or None, _text(owner) or None
    if kind == "companion_object":
        name = node.child_by_field_name("name")
        return (_text(name) or "Companion"), None
    name = node.child_by_field_name("name")
    if name is None:
        name = next((c for c in node.named_children if c.type in _NAME_TYPES), None)
    return _text(name) or None, None


def _first_of(node: Node | None, types: frozenset[str]) -> Node | None:
    if node is None:
        return None
    if node.type in types:
        return node
    for child in node.named_children:
        found = _first_of(child, types)
        if found is not None:
            return found
    return None


def body_of(node: Node) -> Node | None:
    """The node holding a container's members (or a function's statements)."""
    if node.type == "call_expression":
        function = callback_function(node)
        return function.child_by_field_name("body") if function is not None else None
    body = node.child_by_field_name("body")
    if body is not None:
        return body
    return next((c for c in node.named_children if c.type in BODY_TYPES), None)
