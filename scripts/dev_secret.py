"""Print the local session-signing secret, creating it once under DATA_DIR.

For `make run` on a developer's machine only: production sets CHAINLIT_AUTH_SECRET
itself (see the README). The file is readable by its owner only.
"""

import os
import secrets

from settings import get_settings


def main() -> None:
    path = get_settings().data_dir / "chainlit_auth_secret"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    print(path.read_text().strip())


if __name__ == "__main__":
    main()
