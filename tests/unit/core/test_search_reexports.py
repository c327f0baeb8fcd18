"""Re-export evidence: a name as users import it credits the file defining it."""

from __future__ import annotations

from pathlib import Path

from greenpair.core.index import open_index
from greenpair.core.index.search import gather
from greenpair.core.index.search.reexports import reexport_scores, table
from tests.conftest import make_repo


def _index(tmp_path: Path, files: dict[str, str]):
    index = open_index(make_repo(tmp_path / "repo", files, init_git=False))
    for _ in index.update(embed=False):
        pass
    return index


def _credited(index, query: str) -> set[str]:
    lex = index.lexical()
    return {lex.paths[f] for f in reexport_scores(index, lex, query)}


def test_python_package_reexport_resolves_to_the_defining_module(tmp_path: Path) -> None:
    index = _index(tmp_path, {
        "src/mytool/__init__.py": (
            "from _mytool.outcomes import skip\n"
            "from _mytool.marks import (\n    MARKS as mark,\n    Param,\n)\n"
            "from .version import __version__\n"
        ),
        "src/_mytool/__init__.py": "",
        "src/_mytool/outcomes.py": (
            "def _decorate(f):\n    return f\n\n\n@_decorate\ndef skip(reason):\n"
            "    raise RuntimeError(reason)\n"
        ),
        "src/_mytool/marks.py": "class Param:\n    pass\n\n\nMARKS = object()\n",
        "src/mytool/version.py": "__version__ = '1.0'\n",
        "src/_mytool/skipping.py": "def skip_marked(item):\n    return item\n",
    })
    assert _credited(index, "mytool.skip() ignores the reason") == {"src/_mytool/outcomes.py"}
    assert _credited(index, "mytool.mark.foo is missing") == {"src/_mytool/marks.py"}
    assert _credited(index, "skip with a reason") == set()  # nothing qualified or aliased
    lex = index.lexical()
    evidence = gather(index, lex, "mytool.skip() ignores the reason").files["reexport"]
    assert [lex.paths[f] for f in evidence] == ["src/_mytool/outcomes.py"]


def test_typescript_named_star_and_alias_reexports(tmp_path: Path) -> None:
    index = _index(tmp_path, {
        "src/operators/index.ts": (
            "export { map } from '../internal/operators/map';\n"
            "export { mergeMap as flatMap } from '../internal/operators/mergeMap';\n"
            "export * from '../internal/operators/filter';\n"
        ),
        "src/internal/operators/map.ts": "export function map(project) {\n  return project;\n}\n",
        "src/internal/operators/mergeMap.ts": (
            "export function mergeMap(project) {\n  return project;\n}\n"
        ),
        "src/internal/operators/filter.ts": (
            "export function filter(predicate) {\n  return predicate;\n}\n"
        ),
    })
    assert _credited(index, "operators.map drops values") == {"src/internal/operators/map.ts"}
    assert _credited(index, "operators.filter drops values") == {
        "src/internal/operators/filter.ts"
    }
    # ``flatMap`` is defined nowhere under that name: its alias leads to ``mergeMap``.
    assert _credited(index, "`flatMap` is deprecated") == {"src/internal/operators/mergeMap.ts"}
    assert _credited(index, "operators.unknown fails") == set()


def test_rust_pub_use_and_hostile_entries(tmp_path: Path) -> None:
    index = _index(tmp_path, {
        "src/lib.rs": "mod validators;\npub use crate::validators::{Validator, build as make};\n",
        "src/validators/mod.rs": (
            "pub use self::union::*;\nmod union;\n\npub struct Validator {\n    pub strict: bool,\n}\n\n"
            "pub fn build() -> Validator {\n    Validator { strict: true }\n}\n"
        ),
        "src/validators/union.rs": (
            "pub struct UnionValidator {\n    pub choices: Vec<u8>,\n}\n\n"
            "impl UnionValidator {\n    pub fn validate(&self) -> bool {\n        true\n    }\n}\n"
        ),
        "pkg/index.js": "export * from './missing';\nexport { a } from 'external';\nexport {",
        "bad/__init__.py": "from . import\nfrom ..... import x\nfrom .nowhere import (a, b\n",
    })
    assert _credited(index, "src.Validator panics") == {"src/validators/mod.rs"}
    assert _credited(index, "validators.UnionValidator is slow") == {"src/validators/union.rs"}
    assert _credited(index, "`make` fails") == {"src/validators/mod.rs"}
    rx = table(index, index.lexical())
    assert table(index, index.lexical()) is rx  # read once per snapshot


def test_a_stub_beside_its_implementation_ranks_below_it(tmp_path: Path) -> None:
    body = (
        "def parse_duration(text):\n    \"\"\"Parse a duration such as 3h or 15m into seconds.\"\"\"\n"
        "    return int(text[:-1]) * {'h': 3600, 'm': 60}[text[-1]]\n"
    )
    stub = (
        "def parse_duration(text: str) -> int:\n"
        "    \"\"\"Parse a duration such as 3h or 15m into seconds.\"\"\"\n"
        "    ...\n"
    )
    index = _index(tmp_path, {
        "lib/durations.py": body,
        "lib/durations.pyi": stub,
        "native/_speedups.pyi": stub.replace("parse_duration", "fast_parse_duration"),
        "web/clock.d.ts": "export declare function parseClock(text: string): number;\n",
        "web/clock.ts": "export function parseClock(text: string): number {\n  return 1;\n}\n",
    })
    files = index.search("parse a duration into seconds", k=5).files
    assert files.index("lib/durations.py") < files.index("lib/durations.pyi")
    lex = index.lexical()
    from greenpair.core.index.search.fusion import stubs_with_twins

    # A stub of a native module has no twin: it is the module's only Python source. (A
    # ``.d.ts`` beside its ``.ts`` is skipped at index time as a generated twin.)
    twins = {lex.paths[f] for f in stubs_with_twins(lex)}
    assert twins == {"lib/durations.pyi"} | ({"web/clock.d.ts"} & set(lex.paths))
    # Named, a stub keeps its place.
    assert index.search("fix the types in durations.pyi", k=2).files[0] == "lib/durations.pyi"


def test_a_changelog_named_like_any_document_steps_back(tmp_path: Path) -> None:
    index = _index(tmp_path, {
        "PAST.md": (
            "# Past releases\n\n## 2.1.0 (2024-03-01)\n\n- Parse durations in hours and"
            " minutes.\n\n## 2.0.0 (2024-01-01)\n\n- Parse durations in seconds.\n"
        ),
        "lib/durations.py": (
            "def parse_duration(text):\n    \"\"\"Parse durations in hours and minutes.\"\"\"\n"
            "    return int(text[:-1]) * {'h': 3600, 'm': 60}[text[-1]]\n"
        ),
    })
    lex = index.lexical()
    evidence = gather(index, lex, "parse durations in hours and minutes")
    assert {lex.paths[f]: c for f, c in evidence.categories.items()} == {
        "PAST.md": "changelog"
    }
    files = index.search("parse durations in hours and minutes", k=2).files
    assert files[0] == "lib/durations.py"
    # Scaled down as a changelog (not as docs): the request about the changelog keeps it.
    from greenpair.core.index.search import fuse

    plain = fuse(lex, evidence)
    asked = fuse(lex, gather(index, lex, "changelog: parse durations in hours and minutes"))
    past = lex.path_index["PAST.md"]
    assert asked[past] > plain[past] * 3
