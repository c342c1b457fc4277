import io
import json
import pathlib
import zipfile

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
