"""Suite-wide settings: hypothesis examples have no per-example deadline.

Time limits belong to benchmarks, not unit tests: on a loaded 2-core CI machine one generated
example may take several times its usual time, and a deadline would fail a correct property.
"""

from hypothesis import settings

settings.register_profile("ptclisp", deadline=None)
settings.load_profile("ptclisp")
