"""Compiles the per-event path with Cython where it can (vigiles/_compiled.py says why and which).

Everything else is in pyproject.toml. The compiled modules are optional: without Cython or a C
compiler, or with VIGILES_PURE_PYTHON=1, the install is the pure-Python package, and a module that
fails to compile is left as Python (a warning names it).
"""
import os
import runpy

from setuptools import setup
from setuptools.command.build_ext import build_ext

DIRECTIVES = {
    "language_level": 3,
    "binding": False,  # plain C functions: cheaper calls; no module here inspects its functions
    "annotation_typing": False,  # annotations are documentation here, not C types to enforce
}


class OptionalBuildExt(build_ext):
    """A compile failure leaves the module as Python instead of failing the install."""

    def finalize_options(self):
        super().finalize_options()
        if self.parallel is None:
            self.parallel = os.cpu_count() or 1

    def run(self):
        try:
            super().run()
        except Exception as exc:  # no compiler at all
            self.warn(f"vigiles: compiled modules not built ({exc}); the package runs as pure Python")

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:
            self.warn(f"vigiles: {ext.name} not compiled ({exc}); it runs as Python")


def extensions():
    if os.environ.get("VIGILES_PURE_PYTHON"):
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        return []
    modules = runpy.run_path(os.path.join("vigiles", "_compiled.py"))["COMPILED"]
    return cythonize(list(modules), compiler_directives=DIRECTIVES, build_dir="build/cython", quiet=True,
                     nthreads=os.cpu_count() or 1)


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
