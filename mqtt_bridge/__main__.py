"""`python -m mqtt_bridge --config bridge.yaml`."""

import sys

from .cli import main

sys.exit(main())
