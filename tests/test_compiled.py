"""The guard that keeps a checkout's edits in force over stale compiled modules (vigiles/_compiled.py)."""
import importlib.util
import os
from importlib.machinery import EXTENSION_SUFFIXES

from vigiles._compiled import COMPILED, NAMES, PreferEditedSource


def _age(path, seconds):
    os.utime(path, ns=(seconds * 10**9, seconds * 10**9))


def test_an_edited_module_is_imported_from_its_source(tmp_path):
    source = tmp_path / "mod.py"
    source.write_text("VALUE = 'from source'\n")
    twin = tmp_path / ("mod" + EXTENSION_SUFFIXES[0])
    twin.write_bytes(b"not an extension: loading it would fail")
    finder = PreferEditedSource(frozenset({"pkg.mod"}))
    _age(source, 1_000)
    _age(twin, 2_000)
    assert finder.find_spec("pkg.mod", [str(tmp_path)]) is None  # built after the edit: the usual import
    _age(source, 3_000)
    spec = finder.find_spec("pkg.mod", [str(tmp_path)])
    assert spec.origin == str(source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.VALUE == "from source"


def test_an_edited_package_is_imported_from_its_source(tmp_path):
    package = tmp_path / "events"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / ("__init__" + EXTENSION_SUFFIXES[0])).write_bytes(b"")
    _age(package / ("__init__" + EXTENSION_SUFFIXES[0]), 1_000)
    spec = PreferEditedSource(frozenset({"pkg.events"})).find_spec("pkg.events", [str(tmp_path)])
    assert spec.origin == str(package / "__init__.py")
    assert spec.submodule_search_locations == [str(package)]


def test_only_named_modules_with_a_compiled_twin_are_redirected(tmp_path):
    (tmp_path / "plain.py").write_text("")
    finder = PreferEditedSource(frozenset({"pkg.plain"}))
    assert finder.find_spec("pkg.plain", [str(tmp_path)]) is None  # no twin: nothing to prefer
    assert finder.find_spec("pkg.other", [str(tmp_path)]) is None


def test_the_compiled_list_names_real_modules():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    assert all(os.path.isfile(os.path.join(root, path)) for path in COMPILED)
    assert "vigiles.analysis.engine" in NAMES and "vigiles.events" in NAMES
    assert "vigiles.analysis.shell" not in NAMES  # recursion as deep as hostile input: see COMPILED


def test_pure_python_is_chosen_on_request(tmp_path):
    (tmp_path / "mod.py").write_text("")
    twin = tmp_path / ("mod" + EXTENSION_SUFFIXES[0])
    twin.write_bytes(b"")
    _age(tmp_path / "mod.py", 1_000)
    _age(twin, 2_000)
    spec = PreferEditedSource(frozenset({"pkg.mod"}), always=True).find_spec("pkg.mod", [str(tmp_path)])
    assert spec.origin == str(tmp_path / "mod.py")
