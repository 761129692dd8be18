"""The instructor's toolchain: release, sandboxed parallel grading, feedback, export."""

__version__ = "0.1.0"
