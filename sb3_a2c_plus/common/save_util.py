import io
import json
import os
import pathlib
import tempfile
import zipfile
from collections.abc import Callable

from stable_baselines3.common.save_util import open_path


def check_model_file(path: str | pathlib.Path | io.BufferedIOBase, marker: str, algorithm_name: str) -> None:
    """
    Check that ``path`` is a readable SB3 model archive saved by ``algorithm_name`` before
    loading it, so a damaged or foreign file gets an error that says so. Reads only.

    :param path: model file (the ``.zip`` suffix may be omitted) or an open binary file
    :param marker: a key that only models of ``algorithm_name`` store in their ``data`` entry
    :param algorithm_name: name used in the error messages
    """
    file = open_path(path, "r", verbose=0, suffix="zip")
    try:
        with zipfile.ZipFile(file) as archive:
            data = json.loads(archive.read("data"))
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError, ValueError, EOFError) as error:
        raise ValueError(
            f"{path!s} is corrupted or is not a Stable-Baselines3 model file (could not read its 'data' entry: {error})"
        ) from error
    finally:
        if isinstance(path, io.BufferedIOBase):
            file.seek(0)
        else:
            file.close()
    if not isinstance(data, dict) or marker not in data:
        raise ValueError(
            f"{path!s} was not saved by {algorithm_name} (its data has no {marker!r}); "
            "load it with the algorithm that saved it, e.g. stable_baselines3.A2C.load"
        )


def _current_umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _naming(error: OSError, target: pathlib.Path) -> OSError:
    """The same kind of error (PermissionError, ...), its message naming the model's path."""
    return type(error)(error.errno, f"could not save the model to {target}: {error.strerror or error}")


def save_atomically(path: str | pathlib.Path, write: Callable[[pathlib.Path], None]) -> pathlib.Path:
    """
    Save through a temporary file in the same folder, moved into place once complete (``os.replace``):
    whenever the process stops, ``path`` holds the whole previous file or the whole new one. A save
    that fails (disk full, no permission) raises an ``OSError`` naming ``path``, and leaves the
    previous file and no temporary behind. A process killed mid-save leaves its hidden
    ``.<name>.*.partial.zip`` beside the file, never in its place.

    :param path: where the file goes; ``.zip`` is added when it has no suffix, as SB3 does
    :param write: writes the whole file to the path it is given
    :return: the path written
    """
    target = pathlib.Path(path)
    if target.suffix == "":
        target = pathlib.Path(f"{target}.zip")
    if target.is_dir():
        raise IsADirectoryError(f"could not save the model to {target}: it is a folder")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial.zip", dir=target.parent)
    except OSError as error:
        raise _naming(error, target) from error
    temporary = pathlib.Path(name)
    try:
        os.close(descriptor)
        os.chmod(temporary, 0o666 & ~_current_umask())  # what a plain open() would have given
        write(temporary)
        with open(temporary, "rb") as file:
            os.fsync(file.fileno())  # the data reaches the disk before the rename makes it the file
        os.replace(temporary, target)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise _naming(error, target) from error
        raise
    return target
