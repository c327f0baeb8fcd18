"""Language detection and tree-sitter parsers.

Grammars come from the individual ``tree_sitter_<lang>`` wheels (never a bundle that
downloads grammars at run time). ``tree_sitter.Parser`` objects are not thread-safe, so
each thread gets its own; compiled ``Language`` objects are shared.
"""

from __future__ import annotations

import importlib
import re
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tree_sitter

_EXTENSIONS = {
    "py": "python", "pyi": "python", "pyw": "python",
    "js": "javascript", "mjs": "javascript", "cjs": "javascript", "jsx": "javascript",
    "ts": "typescript", "mts": "typescript", "cts": "typescript", "tsx": "tsx",
    "go": "go", "rs": "rust", "java": "java",
    "c": "c", "h": "c",
    "cc": "cpp", "cpp": "cpp", "cxx": "cpp", "c++": "cpp", "hpp": "cpp", "hh": "cpp",
    "hxx": "cpp", "h++": "cpp", "ipp": "cpp", "tpp": "cpp", "inl": "cpp",
    "cs": "c_sharp", "rb": "ruby", "rake": "ruby", "gemspec": "ruby",
    "php": "php", "phtml": "php", "kt": "kotlin", "kts": "kotlin",
    "sh": "bash", "bash": "bash", "zsh": "bash", "ksh": "bash",
    "md": "markdown", "markdown": "markdown", "mdx": "markdown",
    "toml": "toml", "yaml": "yaml", "yml": "yaml", "json": "json", "jsonc": "json",
    "ini": "ini", "cfg": "ini", "conf": "ini",
    "rst": "rst", "txt": "text", "text": "text",
    "html": "html", "htm": "html", "css": "css", "scss": "scss", "sql": "sql", "xml": "xml",
    "swift": "swift", "scala": "scala", "lua": "lua", "r": "r", "pl": "perl", "dart": "dart",
    "vue": "vue", "svelte": "svelte", "proto": "protobuf", "gradle": "groovy",
}
_FILENAMES = {
    "makefile": "make", "gnumakefile": "make", "dockerfile": "dockerfile",
    "containerfile": "dockerfile", "rakefile": "ruby", "gemfile": "ruby", "podfile": "ruby",
    "vagrantfile": "ruby", "jenkinsfile": "groovy", "cmakelists.txt": "cmake",
    ".bashrc": "bash", ".bash_profile": "bash", ".profile": "bash", ".zshrc": "bash",
    "pkgbuild": "bash", "license": "text", "copying": "text", "authors": "text",
}
_SHEBANGS = {
    "python": "python", "python3": "python", "python2": "python", "pypy": "python",
    "pypy3": "python", "node": "javascript", "deno": "typescript", "bun": "typescript",
    "sh": "bash", "bash": "bash", "zsh": "bash", "dash": "bash", "ksh": "bash",
    "ruby": "ruby", "php": "php",
}

# language -> (module, attribute holding the language function)
_GRAMMARS = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "java": ("tree_sitter_java", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
    "c_sharp": ("tree_sitter_c_sharp", "language"),
    "ruby": ("tree_sitter_ruby", "language"),
    "php": ("tree_sitter_php", "language_php"),
    "kotlin": ("tree_sitter_kotlin", "language"),
    "bash": ("tree_sitter_bash", "language"),
}
GRAMMAR_LANGUAGES = frozenset(_GRAMMARS)
_CPP_HINTS = re.compile(
    r"^\s*(?:class\s+\w+\s*[:{]|namespace\s+\w*\s*\{|template\s*<|public:|private:)"
    r"|\bstd::",
    re.MULTILINE,
)


def _shebang_language(first_line: str) -> str | None:
    if not first_line.startswith("#!"):
        return None
    words = first_line[2:].strip().split()
    if not words:
        return None
    program = words[0].rsplit("/", 1)[-1]
    if program == "env":
        args = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
        program = args[0] if args else ""
    program = program.rstrip("0123456789.") or program
    return _SHEBANGS.get(program) or _SHEBANGS.get(program.rstrip("-"))


def detect_language(path: str, text: str | None = None) -> str | None:
    """Guess a file's language from its name, or from a shebang line.

    Args:
        path: File path (only the name is used).
        text: The file's text, when known: its ``#!`` line names the language of
            extension-less scripts, and C++ constructs mark a ``.h`` header as C++.

    Returns:
        A language id such as ``python``, ``tsx``, ``c_sharp``, ``markdown``, ``toml``
        or ``text``; ``None`` when unknown.
    """
    name = path.replace("\\", "/").rsplit("/", 1)[-1].lower()
    language = _FILENAMES.get(name)
    if language is None and "." in name.lstrip("."):
        language = _EXTENSIONS.get(name.rsplit(".", 1)[1])
    if language is None and text:
        language = _shebang_language(text.split("\n", 1)[0])
    if language == "c" and text and name.endswith(".h") and _CPP_HINTS.search(text):
        language = "cpp"  # C++ headers often use .h
    return language


_languages: dict[str, tree_sitter.Language] = {}
_languages_lock = threading.Lock()
_local = threading.local()


def get_language(language: str) -> tree_sitter.Language | None:
    """The compiled tree-sitter ``Language`` for ``language``, or ``None`` without grammar."""
    spec = _GRAMMARS.get(language)
    if spec is None:
        return None
    with _languages_lock:
        compiled = _languages.get(language)
        if compiled is None:
            import tree_sitter

            module = importlib.import_module(spec[0])
            compiled = tree_sitter.Language(getattr(module, spec[1])())
            _languages[language] = compiled
    return compiled


def get_parser(language: str) -> tree_sitter.Parser | None:
    """A parser for ``language`` owned by the calling thread, or ``None`` without grammar."""
    parsers: dict[str, tree_sitter.Parser] | None = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = _local.parsers = {}
    parser = parsers.get(language)
    if parser is None:
        compiled = get_language(language)
        if compiled is None:
            return None
        import tree_sitter

        parser = tree_sitter.Parser(compiled)
        parsers[language] = parser
    return parser


def parse(language: str, text: str) -> tree_sitter.Tree | None:
    """Parse ``text``; ``None`` when ``language`` has no grammar."""
    parser = get_parser(language)
    return None if parser is None else parser.parse(text.encode("utf-8", "surrogatepass"))


def parse_errors(language: str, text: str) -> int | None:
    """Count the ERROR and MISSING nodes of ``text``'s syntax tree.

    Args:
        language: A language id from :func:`detect_language`.
        text: Source text.

    Returns:
        The number of error nodes (0 for valid code), or ``None`` when the language has
        no grammar.
    """
    tree = parse(language, text)
    if tree is None:
        return None
    if not tree.root_node.has_error:
        return 0
    count = 0
    cursor = tree.walk()
    while True:
        node = cursor.node
        if node is not None and (node.is_error or node.is_missing):
            count += 1
        # Only subtrees that contain an error are worth entering.
        if node is not None and node.has_error and cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return count
