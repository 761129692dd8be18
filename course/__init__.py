"""Local, faithful implementations of the Amazon SageMaker services the course teaches.

One subpackage per lifecycle stage; the modules here are shared by every stage.
"""

__version__ = "0.1.0"
