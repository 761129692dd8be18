"""nbgrader configuration of the course (read by nbgrader and by `autograder`)."""

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

c.CourseDirectory.course_id = "sagemaker-lifecycle"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", ".local_s3"]
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.Execute.timeout = 120
# The release gate: each exercise's mutation score (share of generated wrong answers that
# lose points, see `autograder selftest`) must reach this; release_mutants samples that many
# mutants per assignment at release (None: every mutant; `make bench` grades every mutant).
c.Selftest.threshold = 0.9
c.Selftest.release_mutants = 24
# Late submissions (Canvas marks them _late): the share of their score taken off at export,
# in status and in feedback (0: flagged only; 0.1: 10% off; 1: scored 0).
c.LatePolicy.penalty = 0.0
