"""Static security rules over the shipped code, checked on the syntax tree (not by grep).

1. No ``pickle``/``marshal``/``shelve`` import, no ``eval(``/``exec(``, no
   ``yaml.load`` without a safe loader, no ``shell=True``.
2. SQL text is never built from data. Every SQL argument of a sink
   (``execute_sql``, ``executemany``, ``execute_batch`` and the ``run`` /
   ``rows`` / ``run_many`` helpers of ``workq_core.db.sql``) must be built
   only from string constants, module-level names bound to such, the SQL
   builders below, the driver's placeholder (``db.param``), ``self``
   attributes and local names every binding of which is built the same way
   (``.append`` and ``+=`` included). Repeating text (``"?" * n``) is allowed.
   A function parameter taints the SQL, with two exceptions: the helpers' own
   ``sql`` parameter (their callers are checked), and iterating the keys of a
   ``**kwargs`` parameter when every call of that function in its module passes
   only literal keyword names.
   Values travel as ``?`` parameters, which this rule does not restrict.
"""

from __future__ import annotations

import ast
import configparser
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKED_DIRS = ("workq_core", "plugins", "entrypoints")
FORBIDDEN_MODULES = {"pickle", "cPickle", "_pickle", "marshal", "shelve", "dill"}
# The one trusted use: an executor pickles its own job type objects to the
# worker processes it started for job types with timeout_s, over a socketpair
# only the two processes hold (docs/timeouts.md). Nothing from the network,
# the broker or the database is unpickled.
PICKLE_BETWEEN_OWN_PROCESSES = {
    "workq_core/executor/pool_worker.py",
    "workq_core/executor/process_pool.py",
}
SAFE_YAML_LOADERS = {"SafeLoader", "CSafeLoader", "BaseLoader"}
SQL_HELPERS = {"run": 1, "rows": 1, "run_many": 1, "execute_batch": 1}
SQL_METHODS = {"execute_sql": 0, "executemany": 0}
SQL_BUILDERS = {"placeholders", "for_update", "job_status_clause", "_any"}
# Methods whose result holds only text from their receiver and arguments.
TEXT_METHODS = {"join", "format", "replace", "strip", "lower", "upper", "items", "values", "keys"}
PLACEHOLDER_ATTRIBUTE = "param"  # peewee's Database.param: the driver's "?" or "%s"
SINK_MODULE = "workq_core/db/sql.py"


def _sources() -> Iterator[tuple[str, ast.Module]]:
    for directory in CHECKED_DIRS:
        for path in sorted((ROOT / directory).rglob("*.py")):
            if path.name.endswith(("_pb2.py", "_pb2_grpc.py")):
                continue
            yield str(path.relative_to(ROOT)), ast.parse(path.read_text(encoding="utf-8"))


SOURCES = list(_sources())
TREES = dict(SOURCES)


def test_the_checked_directories_hold_code():
    assert len(SOURCES) > 50


def _dangerous(tree: ast.Module) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in FORBIDDEN_MODULES:
                    yield node.lineno, f"import {alias.name}"
        elif (
            isinstance(node, ast.ImportFrom)
            and (node.module or "").split(".")[0] in FORBIDDEN_MODULES
        ):
            yield node.lineno, f"from {node.module} import"
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in ("eval", "exec"):
                yield node.lineno, f"{func.id}("
            if (
                isinstance(func, ast.Attribute)
                and func.attr in ("load", "load_all")
                and isinstance(func.value, ast.Name)
                and func.value.id == "yaml"
                and not _safe_loader(node)
            ):
                yield node.lineno, "yaml.load without SafeLoader"
            for keyword in node.keywords:
                if keyword.arg == "shell" and not (
                    isinstance(keyword.value, ast.Constant) and keyword.value.value is False
                ):
                    yield node.lineno, "shell=True"


def _safe_loader(call: ast.Call) -> bool:
    loaders = [k.value for k in call.keywords if k.arg == "Loader"] + call.args[1:2]
    for loader in loaders:
        name = loader.attr if isinstance(loader, ast.Attribute) else getattr(loader, "id", "")
        if name in SAFE_YAML_LOADERS:
            return True
    return False


@pytest.mark.parametrize(("path", "tree"), SOURCES, ids=[p for p, _ in SOURCES])
def test_no_dangerous_calls_or_imports(path, tree):
    found = list(_dangerous(tree))
    if path in PICKLE_BETWEEN_OWN_PROCESSES:
        found = [(line, what) for line, what in found if what != "import pickle"]
    assert found == []


def test_the_dangerous_rule_catches_each_pattern():
    bad = ast.parse(
        "import pickle\nfrom marshal import loads\neval('1')\nexec('x')\nyaml.load(s)\n"
        "subprocess.run('ls', shell=True)\nyaml.load(s, Loader=yaml.SafeLoader)\n"
    )
    assert [line for line, _ in _dangerous(bad)] == [1, 2, 3, 4, 5, 6]


class SqlChecker:
    """Decides whether an expression of one module builds SQL only from constants."""

    def __init__(self, path: str, tree: ast.Module) -> None:
        self.path = path
        self.tree = tree
        self.module_bindings = _bindings(tree.body)
        self.functions = {
            n.name: n
            for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        # ``from workq_core.x import NAME``: NAME is as safe as its binding there
        self.imported = {
            alias.asname or alias.name: (node.module.replace(".", "/") + ".py", alias.name)
            for node in tree.body
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("workq_core")
            for alias in node.names
        }
        self.self_bindings: dict[str, list[tuple[ast.expr, ast.FunctionDef]]] = {}
        for fn in self.functions.values():
            for node in ast.walk(fn):
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if (
                            isinstance(target, ast.Attribute)
                            and getattr(target.value, "id", "") == "self"
                        ):
                            self.self_bindings.setdefault(target.attr, []).append((node.value, fn))

    def violations(self) -> Iterator[tuple[int, str]]:
        for fn in self.functions.values():
            for node in ast.walk(fn):
                sql = _sql_argument(node)
                if sql is not None and not self.safe(sql, fn, set()):
                    yield node.lineno, ast.unparse(sql)

    def safe(self, expr: ast.expr, fn: ast.FunctionDef | None, seen: set[str]) -> bool:
        match expr:
            case ast.Constant(value=value):
                return isinstance(value, str) or value is None
            case ast.JoinedStr(values=values):
                return all(self.safe(v, fn, seen) for v in values)
            case ast.FormattedValue(value=value):
                return self.safe(value, fn, seen)
            case ast.BinOp(op=ast.Add(), left=left, right=right):
                return self.safe(left, fn, seen) and self.safe(right, fn, seen)
            case ast.BinOp(op=ast.Mult(), left=left, right=right):
                return self.safe(left, fn, seen) or self.safe(right, fn, seen)  # text * count
            case ast.Attribute(attr=attr) if attr == PLACEHOLDER_ATTRIBUTE:
                return True
            case ast.Attribute(value=ast.Name(id="self"), attr=attr):
                assigned = self.self_bindings.get(attr, [])
                return bool(assigned) and all(self.safe(v, f, seen) for v, f in assigned)
            case ast.IfExp(body=body, orelse=orelse):
                return self.safe(body, fn, seen) and self.safe(orelse, fn, seen)
            case ast.List(elts=elts) | ast.Tuple(elts=elts) | ast.Set(elts=elts):
                return all(self.safe(e, fn, seen) for e in elts)
            case ast.Dict(values=values):
                return all(self.safe(v, fn, seen) for v in values)
            case ast.Subscript(value=value):
                return self.safe(value, fn, seen)
            case ast.Call(func=ast.Name(id=name)) if name in SQL_BUILDERS:
                return True
            case ast.Call(func=ast.Attribute(attr=attr, value=value), args=args, keywords=kws) if (
                attr in TEXT_METHODS
            ):
                parts = [value, *args, *(k.value for k in kws)]
                return all(self.safe(p, fn, seen) for p in parts)
            case (
                ast.DictComp(value=elt, generators=gens)
                | ast.GeneratorExp(elt=elt, generators=gens)
                | ast.ListComp(elt=elt, generators=gens)
            ):
                return all(self._iter_safe(g.iter, fn, seen) for g in gens) and self._safe_in(
                    elt,
                    fn,
                    seen,
                    {t.id for g in gens for t in ast.walk(g.target) if isinstance(t, ast.Name)},
                )
            case ast.Name(id=name):
                return self._name_safe(name, fn, seen)
        return False

    def _safe_in(self, expr, fn, seen, bound: set[str]) -> bool:
        return self.safe(expr, fn, seen | {f"bound:{b}" for b in bound})

    def _iter_safe(self, iterable: ast.expr, fn, seen: set[str]) -> bool:
        kwarg = fn.args.kwarg if fn is not None else None
        if isinstance(iterable, ast.Name) and kwarg is not None and iterable.id == kwarg.arg:
            return self._literal_keywords_only(fn.name)
        return self.safe(iterable, fn, seen)

    def _literal_keywords_only(self, function: str) -> bool:
        calls = [
            n
            for n in ast.walk(self.tree)
            if isinstance(n, ast.Call) and getattr(n.func, "id", None) == function
        ]
        return all(k.arg is not None for call in calls for k in call.keywords)

    def _name_safe(self, name: str, fn, seen: set[str]) -> bool:
        if f"bound:{name}" in seen:
            return True
        key = f"{getattr(fn, 'name', '')}:{name}"
        if key in seen:
            return True  # a cycle adds nothing new
        seen = seen | {key}
        if fn is not None:
            params = {a.arg for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)}
            if name in params:
                return self.path == SINK_MODULE and name == "sql"
            local = _bindings(fn.body)
            if name in local:
                return all(self.safe(v, fn, seen) for v in local[name])
        if name in self.module_bindings:
            return all(self.safe(v, None, seen) for v in self.module_bindings[name])
        if name in self.imported and self.imported[name][0] in TREES:
            path, original = self.imported[name]
            return SqlChecker(path, TREES[path])._name_safe(original, None, seen)
        return False


def _bindings(body: list[ast.stmt]) -> dict[str, list[ast.expr]]:
    """Every expression bound to each name in ``body`` (nested blocks too, not nested defs)."""
    found: dict[str, list[ast.expr]] = {}
    nodes = list(body)
    while nodes:
        node = nodes.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Assign):
            for target in node.targets:
                _bind(found, target, node.value)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and node.value is not None:
            _bind(found, node.target, node.value)
        elif isinstance(node, ast.For):
            _bind(found, node.target, node.iter)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            _bind(found, node.optional_vars, node.context_expr)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("append", "extend", "insert")
            and isinstance(node.func.value, ast.Name)
        ):
            found.setdefault(node.func.value.id, []).extend(node.args[-1:])
        nodes.extend(ast.iter_child_nodes(node))
    return found


def _bind(found: dict[str, list[ast.expr]], target: ast.expr, value: ast.expr) -> None:
    if isinstance(target, ast.Name):
        found.setdefault(target.id, []).append(value)
    elif isinstance(target, (ast.Tuple, ast.List)):
        if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
            for element, part in zip(target.elts, value.elts, strict=True):
                _bind(found, element, part)
            return
        for element in target.elts:  # other unpacking: each part is as safe as the whole
            _bind(found, element, value)


def _sql_argument(node: ast.AST) -> ast.expr | None:
    if not isinstance(node, ast.Call):
        return None
    index = None
    if isinstance(node.func, ast.Name):
        index = SQL_HELPERS.get(node.func.id)
    elif isinstance(node.func, ast.Attribute):
        index = SQL_METHODS.get(node.func.attr)
    if index is None or len(node.args) <= index:
        return None
    return node.args[index]


@pytest.mark.parametrize(("path", "tree"), SOURCES, ids=[p for p, _ in SOURCES])
def test_sql_text_is_built_only_from_constants(path, tree):
    assert list(SqlChecker(path, tree).violations()) == []


def test_there_are_sql_calls_to_check():
    calls = sum(
        1 for _, tree in SOURCES for node in ast.walk(tree) if _sql_argument(node) is not None
    )
    assert calls > 30


@pytest.mark.parametrize(
    "source",
    [
        "def f(db, email):\n    run(db, 'SELECT * FROM users WHERE email = ' + email)\n",
        "def f(db, name):\n    rows(db, f'SELECT * FROM jobs WHERE type = {name}')\n",
        "def f(db, key):\n    sql = 'SELECT ' + key\n    db.execute_sql(sql)\n",
        "def f(db, where):\n    parts = ['a = ?']\n    parts.append(where)\n"
        "    run(db, ' AND '.join(parts))\n",
        "def f(db, **values):\n    run(db, ', '.join(values))\n\nf(db, **request)\n",
        "def f(db, x):\n    run(db, 'SELECT {}'.format(x))\n",
        "def f(db, x):\n    a, b = x, '?'\n    run(db, a + b)\n",
        "class S:\n    def __init__(self, t):\n        self.q = t\n"
        "    def g(self, db):\n        db.execute_sql(self.q)\n",
    ],
)
def test_the_sql_rule_catches_data_in_sql_text(source):
    assert list(SqlChecker("example.py", ast.parse(source)).violations())


def test_the_sql_rule_accepts_constants_placeholders_and_keyword_columns():
    source = (
        "_COLS = 'id, email'\n"
        "def f(db, ids, **values):\n"
        "    where = ['a = ?']\n"
        "    where.append('b IN (' + placeholders(len(ids)) + ')')\n"
        "    sets = ', '.join(f'{c} = ?' for c in values)\n"
        "    rows(db, f'SELECT {_COLS} FROM t WHERE {\" AND \".join(where)}' + for_update(db),"
        " ids)\n"
        "    marks, params = ', '.join(['?'] * len(ids)), list(ids)\n"
        "    run(db, 'DELETE FROM t WHERE id IN (' + marks + ')'.replace('?', db.param), params)\n"
        "    run(db, f'UPDATE t SET {sets}', list(values.values()))\n"
        "f(db, [1], status='x')\n"
    )
    assert list(SqlChecker("example.py", ast.parse(source)).violations()) == []


def test_every_package_is_listed_in_setup_cfg():
    """An unlisted package is missing from the installed product (tox and users install it)."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    listed = set(config["options"]["packages"].split())
    found = {
        ".".join(i.parent.relative_to(ROOT).parts) for i in ROOT.glob("workq_core/**/__init__.py")
    }
    for folder in ("plugins", "entrypoints"):
        base = ROOT / folder
        found |= {".".join(i.parent.relative_to(base).parts) for i in base.glob("**/__init__.py")}
    assert found - listed == set()
