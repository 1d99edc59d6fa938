from __future__ import annotations

from git_poison_lsp.cli import main

raise SystemExit(main())
