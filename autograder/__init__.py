"""The instructor's toolchain: release, sandboxed parallel grading, feedback, export."""

import sys

# jsonschema (imported by nbformat and nbgrader) compiles an RFC 3987 grammar at import
# when the optional rfc3987_syntax package is installed: over a second for every command
# and every sandbox, for a URI format check that notebook validation never asks for.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

__version__ = "0.1.0"
