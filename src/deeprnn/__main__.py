"""``python -m deeprnn``: the command line (see ``deeprnn.cli``)."""

from .cli import main

raise SystemExit(main())
