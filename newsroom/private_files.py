"""Files only their owner may read: development's var/, database, secret key, admin password.

Each is created with its final mode (``os.open(..., 0o600)``, ``mkdir(mode=0o700)``), never
written first and restricted afterwards, so there is no moment when another local user could
read it. The umask can only take permissions away, never add them.
"""

import os
import secrets
from pathlib import Path

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def private_directory(path: Path, *, tighten: bool = False) -> None:
    """Create ``path`` (and missing parents) open to its owner only.

    With ``tighten``, an existing ``path`` open to others is closed to them too: an older
    checkout created var/ readable by everyone. Only for a directory the project owns, never
    one a setting may point at (chmod 0700 of /tmp would lock everyone else out).
    """
    path.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    if tighten and path.stat().st_mode & 0o077:
        path.chmod(DIRECTORY_MODE)


def create_private_file(path: Path, content: str = "") -> bool:
    """Make ``path`` a file holding ``content`` that only its owner may read, unless it exists.

    True if this call created it. The content is written to a private temporary file that is
    then linked into place, so that a process starting at the same moment (runserver's
    reloader imports the settings twice) finds either no file or the whole one.
    """
    temporary = _write_temporary(path, content)
    try:
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        temporary.unlink()
    return True


def replace_private_file(path: Path, content: str) -> None:
    """Make ``path`` a file holding ``content`` that only its owner may read, replacing any
    file there (whatever its mode) in one step."""
    os.replace(_write_temporary(path, content), path)


def _write_temporary(path: Path, content: str) -> Path:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(content)
    except BaseException:
        temporary.unlink()
        raise
    return temporary
