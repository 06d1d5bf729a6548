"""``python -m cobot_sevdesk``: the ``cobot-sevdesk`` command."""

import sys

from cobot_sevdesk.cli import main

if __name__ == "__main__":
    sys.exit(main())
