"""`python -m custom_components.eflux.core.runner --config site.yaml`."""

import sys

from .main import main

sys.exit(main())
