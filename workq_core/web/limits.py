"""Cost limits on a parsed GraphQL document: selection depth and alias count."""

from __future__ import annotations

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from workq_core.errors import WorkqError

# Introspection walks type references several levels deep (GraphiQL's query
# nests ``ofType`` eight times: depth 15), so it gets its own, fixed allowance;
# bounded, because __Type.fields -> __Field.type -> ... fans out.
INTROSPECTION_MAX_DEPTH = 16
_INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})


class LimitExceeded(WorkqError):
    """A document is over one of the configured limits."""


def check_limits(document: DocumentNode, *, max_depth: int, max_aliases: int) -> None:
    """Raise LimitExceeded when any operation is too deep or the document has too many aliases."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    aliases = 0
    for definition in document.definitions:
        if isinstance(definition, (OperationDefinitionNode, FragmentDefinitionNode)):
            aliases += _count_aliases(definition.selection_set)
    if aliases > max_aliases:
        raise LimitExceeded(f"Too many aliases: at most {max_aliases} are allowed.")
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            _check_depth(definition.selection_set, fragments, max_depth)


def _count_aliases(selection_set: SelectionSetNode | None) -> int:
    count = 0
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            count += selection.alias is not None
            count += _count_aliases(selection.selection_set)
        elif isinstance(selection, InlineFragmentNode):
            count += _count_aliases(selection.selection_set)
    return count


def _check_depth(
    root: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], max_depth: int
) -> None:
    """Walk the operation (fragments expanded, each at most once per path) iteratively."""
    stack: list[tuple[SelectionSetNode, int, int, frozenset[str]]] = [
        (root, 0, max_depth, frozenset())
    ]
    while stack:
        selection_set, depth, limit, seen = stack.pop()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                field_limit = limit
                if depth == 0 and selection.name.value in _INTROSPECTION_ROOTS:
                    field_limit = INTROSPECTION_MAX_DEPTH
                if depth + 1 > field_limit:
                    raise LimitExceeded(f"Query is too deep: at most {max_depth} levels.")
                if selection.selection_set:
                    stack.append((selection.selection_set, depth + 1, field_limit, seen))
            elif isinstance(selection, InlineFragmentNode):
                stack.append((selection.selection_set, depth, limit, seen))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is not None and name not in seen:
                    stack.append((fragment.selection_set, depth, limit, seen | {name}))
