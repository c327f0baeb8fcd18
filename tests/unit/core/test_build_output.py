"""Build output recognised by structure: compiled twins, copies and build folders."""

from __future__ import annotations

from pathlib import Path

from greenpair.core.index import open_index
from greenpair.core.repo.build_output import recognise
from tests.conftest import make_repo

SOURCES = ["src/index.ts", "src/internal/map.ts", "src/internal/filter.ts",
           "src/internal/util/pipe.ts", "src/types.d.ts"]


def test_a_package_dist_tree_is_recognised_with_its_bundles() -> None:
    dist = [f"dist/{flavour}/{p[4:-3]}.js" for flavour in ("cjs", "esm")
            for p in SOURCES[:4]]
    types = [f"dist/types/{p[4:-3]}.d.ts" for p in SOURCES[:4]]
    found = recognise([*SOURCES, *dist, *types, "dist/bundles/lib.umd.js", "package.json"])
    assert set(found) == {*dist, *types, "dist/bundles/lib.umd.js"}
    assert found["dist/cjs/internal/map.js"] == "compiled copy of src/internal/map.ts"
    assert found["dist/types/internal/util/pipe.d.ts"] == (
        "compiled copy of src/internal/util/pipe.ts")
    assert found["dist/bundles/lib.umd.js"].startswith("in build output folder dist/")


def test_nested_package_output_and_sibling_declarations() -> None:
    found = recognise([
        "packages/ui/src/button.ts", "packages/ui/src/menu.ts", "packages/ui/src/tab.ts",
        "packages/ui/lib/button.js", "packages/ui/lib/menu.js", "packages/ui/lib/tab.js",
        "packages/ui/lib/extra.js",
        "web/app.ts", "web/app.js", "web/app.d.ts",  # tsc without outDir
    ])
    assert set(found) == {
        "packages/ui/lib/button.js", "packages/ui/lib/menu.js", "packages/ui/lib/tab.js",
        "packages/ui/lib/extra.js", "web/app.js", "web/app.d.ts",
    }


def test_hand_written_code_stays() -> None:
    paths = [
        "src/index.ts", "src/cart.ts",
        "types/legacy.d.ts",  # declarations for plain JS: no .ts twin
        "scripts/index.js",  # one file sharing a stem is not a mirrored tree
        "build/webpack.config.js", "build/release.js",  # build scripts in build/
        "lib/server.js", "lib/util.js",
    ]
    assert recognise(paths) == {}


def test_identical_copies_of_a_python_package() -> None:
    files = {f"src/pkg/{n}.py": f"h{n}" for n in ("a", "b", "c", "d")}
    files |= {f"build/lib/pkg/{n}.py": f"h{n}" for n in ("a", "b", "c", "d")}
    files |= {"src/pkg/__init__.py": "e", "tests/__init__.py": "e"}
    files |= {"tests/data/one.txt": "same", "docs/one.txt": "same"}  # one shared text
    found = recognise(files)
    assert set(found) == {f"build/lib/pkg/{n}.py" for n in "abcd"}
    assert found["build/lib/pkg/a.py"] == "copy of src/pkg/a.py"


def test_index_leaves_build_output_out_and_says_why(tmp_path: Path) -> None:
    files = {"src/cart.ts": "export function total(items: number[]) { return 0; }\n",
             "src/tax.ts": "export const rate = 0.2;\n",
             "src/index.ts": "export * from './cart';\n"}
    for flavour in ("cjs", "esm"):
        for name in ("cart", "tax", "index"):
            files[f"dist/{flavour}/{name}.js"] = "exports.total = function (items) {};\n"
            files[f"dist/{flavour}/{name}.js.map"] = '{"version":3,"mappings":"AAAA"}\n'
    files["dist/bundles/app.umd.js"] = "(function (global) { total(); })(this);\n"
    repo = make_repo(tmp_path / "repo", files)
    index = open_index(repo)
    for _ in index.update(embed=False):
        pass
    stats = index.stats()
    assert stats["files"] == 3
    assert stats["generated"] == {
        "compiled copy": 6,
        "file name": 6,  # the source maps
        "in build output folder dist/ (6 of its 7 scripts are copies of sources)": 1,
    }
    assert index.search("total items", k=10).files[0] == "src/cart.ts"
    assert not any(p.startswith("dist/") for p in index.search("total", k=50).files)
    # a refresh of one new file in the output tree judges it against the whole tree
    (repo / "dist/esm/extra.js").write_text("exports.x = 1;\n", encoding="utf-8")
    for _ in index.update(embed=False, paths=["dist/esm/extra.js"]):
        pass
    assert index.stats()["files"] == 3
    index.close()
