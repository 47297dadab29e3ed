import sys

from govflow.client.cli import main

sys.exit(main())
