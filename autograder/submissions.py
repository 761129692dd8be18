"""Finding the submissions to grade: nbgrader's folder layout, or an LMS zip.

Two layouts are accepted:

- nbgrader's ``PATH/<student_id>/<assignment>/*.ipynb`` (a folder, or a zip of one);
- a Canvas "Download Submissions" zip, whose files are named
  ``<name>[_late]_<user id>_<submission id>_<file name>`` (Canvas adds ``-1``,
  ``-2``... to the file name of resubmissions). The Canvas user id becomes the
  student id.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .course import UserError

CANVAS_NAME = re.compile(
    r"^(?P<name>[^_/]+?)(?P<late>_late)?_(?P<user_id>\d+)_(?P<submission_id>\d+)_(?P<file>.+)$",
    re.IGNORECASE,
)
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")
MAX_ZIP_MEMBER_BYTES = 64 * 1024 * 1024
MAX_ZIP_TOTAL_BYTES = 2 * 1024**3


@dataclass
class Submission:
    """One student's files for one assignment."""

    student_id: str
    notebooks: dict[str, Path] = field(default_factory=dict)  # expected name -> file found
    notes: list[str] = field(default_factory=list)
    name: str = ""  # the name as the LMS or the folder gave it, when it differs from student_id
    late: bool = False  # Canvas marked the file late


def safe_student_id(name: str) -> str:
    """A student id nbgrader and every file system accept, stable for the same ``name``.

    Accents are dropped, anything else outside letters, digits and ``_ . @ -``
    becomes ``-``; a name with nothing usable left gets ``student-<hash>``.

    >>> safe_student_id("alice"), safe_student_id("José García"), safe_student_id("Łukasz O'Brien")
    ('alice', 'Jose-Garcia', 'ukasz-O-Brien')
    >>> safe_student_id("王伟")
    'student-0c6e5fe880'
    """
    if STUDENT_ID.match(name):
        return name
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9_.@-]+", "-", ascii_name).strip("-_.@")
    if not STUDENT_ID.match(slug):
        return f"student-{hashlib.sha256(name.encode()).hexdigest()[:10]}"
    return slug


def _assign_ids(submissions: list[Submission]) -> list[Submission]:
    """Give each submission a safe id; names that would share one are told apart and reported."""
    by_id: dict[str, list[Submission]] = {}
    for submission in submissions:
        by_id.setdefault(safe_student_id(submission.student_id), []).append(submission)
    for safe, group in by_id.items():
        clash = len(group) > 1
        names = ", ".join(repr(s.student_id) for s in group)
        for submission in group:
            original = submission.student_id
            submission.student_id = (
                f"{safe}-{hashlib.sha256(original.encode()).hexdigest()[:6]}" if clash else safe
            )
            if submission.student_id != original:
                submission.name = submission.name or original
            if clash:
                submission.notes.append(
                    f"the folder names {names} map to the same student id {safe!r}; "
                    f"this one ({original!r}) is graded as {submission.student_id!r}"
                )
    return sorted(submissions, key=lambda s: s.student_id)


def collect(path: Path, assignment_id: str, expected: list[str], scratch: Path) -> list[Submission]:
    """Every submission of ``assignment_id`` under ``path`` (a folder or a zip file).

    ``scratch`` is an empty folder zip files are extracted into.
    """
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path} does not exist: give a folder of submissions or an LMS zip file")
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise UserError(
                f"{path} is neither a folder nor a zip file: give a folder of submissions or an LMS zip file"
            )
        _extract(path, scratch)
        folder = _nbgrader_root(scratch, assignment_id)
        if folder is None:
            submissions = _canvas(scratch, expected)
            if not submissions:
                raise UserError(
                    f"{path}: found neither <student>/{assignment_id}/*.ipynb folders nor Canvas "
                    "file names (<name>_<user id>_<submission id>_<file>.ipynb)"
                )
            return _assign_ids(submissions)
        path = folder
    submissions = []
    for student_dir in sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")):
        folder = student_dir / assignment_id
        if not folder.is_dir():
            continue
        files = sorted(p for p in folder.glob("*.ipynb") if p.is_file())
        submissions.append(_match(student_dir.name, files, expected))
    if not submissions:
        raise UserError(f"{path}: no <student>/{assignment_id}/ folders found")
    return _assign_ids(submissions)


def _extract(archive: Path, scratch: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            if sum(m.file_size for m in members) > MAX_ZIP_TOTAL_BYTES:
                raise UserError(f"{archive}: uncompressed size is over 2 GB; split the download")
            for member in members:
                name = PurePosixPath(member.filename)
                if name.is_absolute() or ".." in name.parts or name.suffix != ".ipynb":
                    continue
                if "__MACOSX" in name.parts or member.file_size > MAX_ZIP_MEMBER_BYTES:
                    continue
                target = scratch.joinpath(*name.parts)
                try:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(member) as src, open(target, "wb") as dst:
                        shutil.copyfileobj(src, dst)
                except OSError as error:
                    raise UserError(
                        f"{archive}: cannot extract {member.filename!r} ({error.strerror or error}); "
                        "check the zip file and remove that entry"
                    ) from None
    except zipfile.BadZipFile as error:
        raise UserError(f"{archive}: not a readable zip file ({error})") from None


def _nbgrader_root(scratch: Path, assignment_id: str) -> Path | None:
    """The folder holding ``<student>/<assignment>/`` inside an extracted zip, if any."""
    for notebook in sorted(scratch.rglob("*.ipynb")):
        if CANVAS_NAME.match(notebook.name):
            continue  # a Canvas download, even if unpacked into a folder named like the assignment
        if notebook.parent.name == assignment_id and notebook.parent.parent != scratch:
            return notebook.parent.parent.parent
    return None


def _canvas(scratch: Path, expected: list[str]) -> list[Submission]:
    by_student: dict[str, list[tuple[int, Path, re.Match]]] = {}
    for file in sorted(scratch.rglob("*.ipynb")):
        match = CANVAS_NAME.match(file.name)
        if match:
            by_student.setdefault(match["user_id"], []).append((int(match["submission_id"]), file, match))
    submissions = []
    for student_id, entries in sorted(by_student.items()):
        entries.sort(key=lambda e: -e[0])
        submission = _match(student_id, [f for _, f, _ in entries], expected, canvas=True)
        newest = entries[0][2]
        submission.name, submission.late = newest["name"], bool(newest["late"])
        submissions.append(submission)
    return submissions


def _original_name(file: Path, canvas: bool) -> str:
    name = CANVAS_NAME.match(file.name)["file"] if canvas else file.name
    return re.sub(r"-\d+(\.ipynb)$", r"\1", name)  # Canvas's resubmission suffix


def _match(student_id: str, files: list[Path], expected: list[str], canvas: bool = False) -> Submission:
    submission = Submission(student_id)
    unmatched = []
    for file in files:
        name = _original_name(file, canvas)
        if name in expected and name not in submission.notebooks:
            submission.notebooks[name] = file
        else:
            unmatched.append(file)
    missing = [n for n in expected if n not in submission.notebooks]
    if len(missing) == 1 and len(unmatched) >= 1:
        chosen = unmatched.pop(0)
        submission.notebooks[missing[0]] = chosen
        submission.notes.append(f"accepted {_original_name(chosen, canvas)} as {missing[0]}")
        missing = []
    for name in missing:
        submission.notes.append(f"missing notebook {name}")
    return submission
