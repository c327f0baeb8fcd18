"""File categories from the structure of a repository, not from a word in a name."""

from __future__ import annotations

import pytest

from greenpair.core.index import categories

SOURCE, TEST, DOCS, CHANGELOG = (
    categories.SOURCE, categories.TEST, categories.DOCS, categories.CHANGELOG,
)


@pytest.mark.parametrize(
    ("path", "category"),
    [
        ("src/shop/cart.py", SOURCE),
        ("lib/server.go", SOURCE),
        ("tests/test_cart.py", TEST),
        ("web/cart.spec.ts", TEST),
        ("docs/usage.md", DOCS),
        ("README.md", DOCS),
        ("examples/demo.py", categories.EXAMPLE),
        ("pyproject.toml", categories.CONFIG),
        ("scripts/release.py", categories.OTHER),
    ],
)
def test_category(path: str, category: str) -> None:
    assert categories.category(path) == category


@pytest.mark.parametrize(
    "path",
    ["src/app/history.py", "lib/changes.py", "src/news_feed.py", "app/models/release_notes.rb",
     "changes/diff.py", "src/history/index.ts"],
)
def test_code_named_like_a_changelog_is_source(path: str) -> None:
    assert categories.category(path) == SOURCE


@pytest.mark.parametrize(
    "path",
    [
        "CHANGELOG.md", "CHANGES.rst", "HISTORY.rst", "History.md", "NEWS", "RELEASE_NOTES.md",
        "doc/en/changelog.rst",  # pytest
        "docs/history.md",
        "docs/whatsnew/3.0.rst",
        "changelog/12345.bugfix.rst",  # towncrier fragments
        "newsfragments/99.feature",
    ],
)
def test_changelogs_are_prose_at_the_top_or_in_docs(path: str) -> None:
    assert categories.category(path) == CHANGELOG


def test_changelog_words_deep_in_the_tree_are_docs_not_the_changelog() -> None:
    assert categories.category("src/widgets/changelog.md") == DOCS
    assert categories.category("docs/api/reference/history.md") == DOCS


@pytest.mark.parametrize(
    ("path", "category"),
    [
        # Django: django/test/ is the test framework users import; tests/ are its tests.
        ("django/test/client.py", SOURCE),
        ("django/test/utils.py", SOURCE),
        ("tests/test_client/tests.py", TEST),
        ("numpy/testing/_private/utils.py", SOURCE),
        ("testing/python/fixtures.py", TEST),  # pytest's own tests at the top
        # Go: _test.go beside the code
        ("pkg/cart/cart.go", SOURCE),
        ("pkg/cart/cart_test.go", TEST),
        ("internal/testutil/fake.go", SOURCE),
        # Rust: tests/ holds integration tests; #[cfg(test)] modules live in source files
        ("tests/integration.rs", TEST),
        ("crates/core/tests/parse.rs", TEST),
        ("src/parser.rs", SOURCE),
        ("src/test.rs", SOURCE),
        # JS/TS: __tests__ anywhere, test/ at a package's top
        ("src/components/__tests__/Button.test.tsx", TEST),
        ("src/components/__tests__/helpers.js", TEST),
        ("packages/ui/test/render.ts", TEST),
        ("test/index.js", TEST),
        # Java/Maven
        ("src/test/java/CartTest.java", TEST),
        ("src/main/java/shop/test/Fixture.java", SOURCE),
    ],
)
def test_real_layouts(path: str, category: str) -> None:
    assert categories.category(path) == category


@pytest.mark.parametrize(
    "text",
    [
        "# Releases\n\n## 1.2.3 (2024-01-02)\n\n- fix\n\n## 1.2.2\n\n- first\n",
        "pytest 8.0.0 (2024-01-27)\n=========================\n\nFixes\n\n"
        "pytest 7.4.4 (2023-12-31)\n=========================\n",
        "v2.0.0 - 2024-01-01\n* a\n\nv1.9.0 - 2023-10-01\n* b\n",
        "## [Unreleased]\n\n## [1.0.0] - 2017-06-20\n### Added\n\n## [0.3.0] - 2015-12-03\n",
    ],
)
def test_prose_with_version_headings_is_a_changelog_whatever_its_name(text: str) -> None:
    assert categories.looks_like_changelog(text)
    assert categories.category_of("PAST.md", text) == CHANGELOG
    assert categories.category_of("docs/past.rst", text) == CHANGELOG
    # Deep in the tree, or code, it stays what its place says.
    assert categories.category_of("docs/a/b/c/past.rst", text) == DOCS
    assert categories.category_of("src/release.py", text) == SOURCE


@pytest.mark.parametrize(
    "text",
    [
        "# Installation\n\nRequires Python 3.9 or later.\n\n## Usage\n\nRun it 1.5 times.\n",
        "Intro\n=====\n\nRequires 3.9.\n\n## Usage\n\n# 2 things\n",
        "## 2.0 migration guide\n\nOne heading naming a version is not a history.\n",
    ],
)
def test_prose_that_mentions_versions_is_not_a_changelog(text: str) -> None:
    assert not categories.looks_like_changelog(text)
    assert categories.category_of("docs/install.md", text) == DOCS
    assert categories.category_of("docs/install.md", None) == DOCS


OTHER, CONFIG, EXAMPLE = categories.OTHER, categories.CONFIG, categories.EXAMPLE


@pytest.mark.parametrize(
    ("path", "category"),
    [
        # Maven/Gradle multi-module: each module keeps its own source sets.
        ("core/src/main/java/org/shop/Cart.java", SOURCE),
        ("core/src/test/java/org/shop/CartTest.java", TEST),
        ("core/src/test/java/org/shop/support/Fixtures.java", TEST),
        ("server/api/src/test/kotlin/org/shop/RoutesSpec.kt", TEST),
        ("server/src/it/java/org/shop/CheckoutFlow.java", TEST),
        ("server/src/integrationTest/java/org/shop/Db.java", TEST),
        ("server/src/testFixtures/java/org/shop/Carts.java", TEST),
        ("app/src/androidTest/java/org/shop/MainScreen.kt", TEST),
        ("shared/src/commonTest/kotlin/org/shop/Money.kt", TEST),
        ("shared/src/commonMain/kotlin/org/shop/Money.kt", SOURCE),
        ("core/src/main/java/org/shop/CheckoutIT.java", TEST),  # failsafe by name
        ("core/src/main/kotlin/org/shop/CartTest.kt", TEST),
        ("core/src/main/groovy/org/shop/CartSpec.groovy", TEST),
        ("core/src/main/scala/org/shop/CartSuite.scala", TEST),
        ("core/src/jmh/java/org/shop/CartBenchmark.java", OTHER),
        ("build.gradle.kts", CONFIG),
        ("core/build.gradle.kts", CONFIG),
        ("settings.gradle", CONFIG),
        # JS/TS: benchmarks, type tests, Angular e2e specs, stories
        ("src/__benchmarks__/parse.ts", OTHER),
        ("packages/core/src/parse.bench.ts", OTHER),
        ("bench.js", OTHER),
        ("benchmark.mjs", OTHER),
        ("typings/index.test-d.ts", TEST),
        ("e2e/src/app.e2e-spec.ts", TEST),
        ("src/__fixtures__/user.json", TEST),
        ("src/Button.stories.tsx", EXAMPLE),
        ("src/Button.tsx", SOURCE),
        # build configuration at a package's top
        ("eslint.config.js", CONFIG),
        ("rollup.config.js", CONFIG),
        ("rollup.dts.config.js", CONFIG),
        ("vite.config.mts", CONFIG),
        ("vitest.config.ts", CONFIG),
        ("jest.config.cjs", CONFIG),
        ("webpack.config.js", CONFIG),
        ("webpack.prod.js", CONFIG),
        ("tsup.config.ts", CONFIG),
        ("babel.config.js", CONFIG),
        ("prettier.config.mjs", CONFIG),
        ("packages/ui/vite.config.ts", CONFIG),
        ("gulpfile.js", CONFIG),
        (".storybook/main.ts", OTHER),
        # ...but an application's own config module is source.
        ("src/app/app.config.ts", SOURCE),
        # Rust benches, Go testdata, .NET test projects, Swift packages
        ("benches/parse.rs", OTHER),
        ("crates/core/benches/lex.rs", OTHER),
        ("testdata/golden.go", TEST),
        ("internal/parse/testdata/input.go", TEST),
        ("src/Shop.Tests/CartTests.cs", TEST),
        ("src/Shop.UnitTests/Helpers.cs", TEST),
        ("test/Shop.IntegrationTests/Db.cs", TEST),
        ("src/Shop.Benchmarks/CartBench.cs", OTHER),
        ("src/Shop.Core/Cart.cs", SOURCE),
        ("Sources/Shop/Cart.swift", SOURCE),
        ("Tests/ShopTests/CartTests.swift", TEST),
        ("Tests/ShopTests/Helpers.swift", TEST),
        ("Package.swift", CONFIG),
        # C/C++ unit tests
        ("base/strings/split_unittest.cc", TEST),
        ("unittests/parser.cpp", TEST),
    ],
)
def test_ecosystem_conventions(path: str, category: str) -> None:
    assert categories.category(path) == category


@pytest.mark.parametrize(
    "path",
    [
        "src/main/java/org/shop/Latest.java",  # ends in "test", but not a test class
        "src/main/kotlin/org/shop/Contest.kt",
        "src/main/java/com/squareup/javapoet/TypeSpec.java",  # Spec, but not Spock's
        "src/main/java/org/shop/Audit.java",
        "src/main/java/org/shop/contest/Entry.java",
        "django/test/client.py",  # a test framework users import
        "Lib/unittest/case.py",
        "src/benchmarking/report.py",
        "lib/config.js",
        "src/shop/webpack_helpers.py",
    ],
)
def test_source_when_nothing_says_otherwise(path: str) -> None:
    assert categories.category(path) == SOURCE
