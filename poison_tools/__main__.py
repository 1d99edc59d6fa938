from __future__ import annotations

from poison_tools.cli import main

raise SystemExit(main())
