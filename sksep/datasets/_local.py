"""Finding a local copy of a corpus (nothing is ever downloaded)."""

import os
from pathlib import Path


def local_folder(data_home, env_var, corpus, candidates, holds, what, how_to_get):
    """The first of ``candidates(root)`` for which ``holds(folder)``.

    ``root`` is ``data_home`` or, when it is None, the ``env_var``
    environment variable; a clear FileNotFoundError says what is missing
    (``what``) and how to get it otherwise.
    """
    if data_home is None:
        data_home = os.environ.get(env_var)
        if data_home is None:
            raise FileNotFoundError(
                f"No {corpus} folder given: data_home is None and {env_var} is not "
                "set. " + how_to_get
            )
    root = Path(data_home)
    for candidate in candidates(root):
        if holds(candidate):
            return candidate
    raise FileNotFoundError(f"No {what} found in '{root}'. " + how_to_get)
