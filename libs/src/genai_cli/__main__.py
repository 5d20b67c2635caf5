"""`python -m genai_cli`: the same as the `genai` command."""

from __future__ import annotations

import sys

from genai_cli.app import main

sys.exit(main())
