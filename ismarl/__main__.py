"""``python -m ismarl``: see :mod:`ismarl.cli`."""

import sys

from ismarl.cli import main

if __name__ == "__main__":
    sys.exit(main())
